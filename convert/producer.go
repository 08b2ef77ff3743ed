package convert

import (
	"fmt"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// describe recognises what wrote a Comet session from what it logged,
// YOLOv5's Comet logger or Ultralytics' callback (8.x), and fills the run
// row: producer, task, version range, settings, epochs. It also makes
// every metric point's epoch 1-based: YOLOv5 logs 0-based epochs.
func (c *cometReader) describe() {
	r := c.s.r
	args := &Params{byKey: map[string]int{}}
	others := map[string]schemas.ParamRow{}
	for _, p := range r.Params {
		switch p.Section {
		case "args":
			args.byKey[p.Key] = len(args.Rows)
			args.Rows = append(args.Rows, p)
		case "others":
			others[p.Key] = p
		}
	}
	metrics := map[string]bool{}
	for _, s := range r.Scalars {
		metrics[s.Metric] = true
	}
	producer, vr := cometProducer(args, others, metrics)
	r.Info.Producer = producer
	if producer == schemas.ProducerYOLOv5 {
		// opt (vars(opt)) and hyp: no Ultralytics release to date.
		r.Info.SaveDir, r.Info.Dataset, r.Info.Name = args.String("save_dir"), args.String("data"), args.String("name")
		if e, ok := args.Int("epochs"); ok {
			r.Info.EpochsPlanned = &e
		}
		if b, ok := args.Int("batch_size"); ok && b > 0 {
			r.Info.Batch = &b
		}
		r.Info.VersionEvidence = append(vr.evidence, "YOLOv5's Comet logger, not an Ultralytics 8.x release")
	} else {
		r.describeArgs(args, vr)
	}
	if r.Info.Task == "" {
		r.Info.Task = taskFromMetrics(metrics)
	}
	epochs := map[int64]bool{}
	for i := range r.Scalars {
		s := &r.Scalars[i]
		if s.SessionEpoch == nil {
			continue
		}
		s.Epoch = *s.SessionEpoch
		if producer == schemas.ProducerYOLOv5 {
			s.Epoch++
		}
		if strings.HasPrefix(s.Metric, "train/") {
			epochs[s.Epoch] = true
		}
	}
	r.Info.EpochsCompleted = int64(len(epochs))
}

// cometProducer tells the producer of a Comet session by the first of
// these that says it: the "Created from" other, the callback's other
// settings, the training settings' keys, the metric names. The version
// range holds the facts found, with Ultralytics' release bounds.
func cometProducer(args *Params, others map[string]schemas.ParamRow, metrics map[string]bool) (string, *versionRange) {
	vr := newVersionRange()
	if p, ok := others["Created from"]; ok && p.String != nil {
		fact := fmt.Sprintf("the other %q is %q", "Created from", *p.String)
		switch *p.String {
		case "YOLOv5":
			vr.evidence = append(vr.evidence, fact)
			return schemas.ProducerYOLOv5, vr
		case "yolov8":
			vr.atMost(version{8, 3, 20}, fact)
			return schemas.ProducerUltralytics, vr
		case "ultralytics":
			vr.atLeast(version{8, 3, 21}, fact)
			return schemas.ProducerUltralytics, vr
		}
	}
	if _, ok := others["log_confusion_matrix_on_eval"]; ok {
		vr.atLeast(version{8, 0, 118}, "the callback's other log_confusion_matrix_on_eval")
		return schemas.ProducerUltralytics, vr
	}
	if _, ok := others["log_confusion_matrix"]; ok {
		vr.atLeast(version{8, 0, 67}, "the callback's other log_confusion_matrix")
		vr.atMost(version{8, 0, 117}, "the callback's other log_confusion_matrix")
		return schemas.ProducerUltralytics, vr
	}
	has := func(k string) bool { _, ok := args.Get(k); return ok }
	switch {
	case has("noautoanchor") || has("anchor_t") && has("obj"):
		vr.evidence = append(vr.evidence, "the parameters have YOLOv5's opt or hyp keys (noautoanchor, anchor_t)")
		return schemas.ProducerYOLOv5, vr
	case has("task") && has("mode"):
		return schemas.ProducerUltralytics, vr // args.yaml: describeArgs dates it
	case metrics["train/obj_loss"] || metrics["x/lr0"]:
		vr.evidence = append(vr.evidence, "the metrics have YOLOv5's names (train/obj_loss, x/lr0)")
		return schemas.ProducerYOLOv5, vr
	case metrics["lr/pg0"]:
		vr.evidence = append(vr.evidence, "the metrics have Ultralytics 8.x names (lr/pg0)")
		return schemas.ProducerUltralytics, vr
	}
	return "", vr
}

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
