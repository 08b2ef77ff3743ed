package convert

// taskFromMetrics tells a session's task by the losses and metrics it
// logged (Ultralytics 8.x and YOLOv5 names); "" when none says.
func taskFromMetrics(metrics map[string]bool) string {
	switch {
	case metrics["train/seg_loss"]:
		return "segment"
	case metrics["train/pose_loss"]:
		return "pose"
	case metrics["train/angle_loss"]:
		return "obb"
	case metrics["metrics/accuracy_top1"]:
		return "classify"
	case metrics["train/box_loss"]:
		return "detect"
	}
	return ""
}
