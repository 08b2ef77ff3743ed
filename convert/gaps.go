package convert

import (
	"github.com/yoloarchive/yoloarchive/schemas"
)

// gap records something the archive lacks: what (item, one of the
// schemas.Gap* constants) and why. Which destinations it matters to is
// theirs to say (sync.Kind.Gaps).
func (r *Run) gap(item, reason, hint string) {
	r.Gaps = append(r.Gaps, schemas.GapRow{Item: item, Reason: reason, Hint: hint})
}

// warn records a problem worth telling the user that does not stop the
// capture.
func (r *Run) warn(msg string) { r.Warnings = append(r.Warnings, msg) }

// trainingGaps records what an Ultralytics training run never writes to
// disk but its tracker callbacks log live (callback-mapping.md A.7, B.11).
func (r *Run) trainingGaps() {
	r.gap(schemas.GapModelInfo,
		"model/parameters, model/GFLOPs and model/speed_PyTorch(ms) are computed in memory during training and never written to disk",
		"recompute parameters and GFLOPs by loading weights/best.pt with Ultralytics; the speed needs a re-run of val on the same hardware")
	r.gap(schemas.GapFinalValidationMetrics,
		"the final best.pt validation (metrics/* and fitness logged after the last epoch) is not written to disk; the summary holds the results.csv row of maximum fitness instead (exact=false)",
		"re-run `yolo val` with weights/best.pt for the exact values")
	r.gap(schemas.GapConfusionMatrixValues,
		"only the confusion matrix PNGs are on disk, not the matrix numbers Comet's log_confusion_matrix receives",
		"recompute from predictions.json and the dataset labels (conf 0.25, IoU 0.45), or re-run `yolo val`")
	r.gap(schemas.GapPerEpochValidationImages,
		"val_batch*_labels.jpg and val_batch*_pred.jpg are overwritten every epoch; only the last validation's copies remain",
		"")
	r.gap(schemas.GapConsoleAndSystem,
		"console output, system metrics, installed packages and git details are captured by the tracker SDKs, not by Ultralytics on disk",
		"capture the run's Comet or ClearML offline session instead, when one was recorded")
}
