package schemas

// Table names. Each table is stored in an archive as "tables/<name>.parquet".
const (
	TableRun         = "run"
	TableScalars     = "scalars"
	TableParams      = "params"
	TableSummary     = "summary"
	TableImages      = "images"
	TableAnnotations = "annotations"
	TableAssets      = "assets"
	TableGaps        = "gaps"
	TableLogs        = "logs" // format 1.1
)

// Tables lists the tables of format 1.0 in the order they are written.
var Tables = []string{
	TableRun,
	TableScalars,
	TableParams,
	TableSummary,
	TableImages,
	TableAnnotations,
	TableAssets,
	TableGaps,
	TableLogs,
}

// TablePath returns the archive entry name of a table.
func TablePath(name string) string { return "tables/" + name + ".parquet" }

// Source kinds: what a run was captured from (RunRow.SourceKind).
const (
	SourceUltralyticsTrain = "ultralytics-train" // a `yolo train` run directory
	SourceUltralyticsVal   = "ultralytics-val"   // a `yolo val` directory
	SourceYOLOv5Train      = "yolov5-train"      // a YOLOv5 runs/train/exp directory
	SourceClearMLOffline   = "clearml-offline"   // a ClearML offline session (folder or zip)
	SourceCometOffline     = "comet-offline"     // a Comet offline experiment zip
	SourceMLflowRun        = "mlflow-run"        // a run of an MLflow file store (mlruns/<experiment>/<run>)
)

// Run statuses (RunRow.Status).
const (
	StatusFinished    = "finished"    // training ended normally (results.png was written)
	StatusInterrupted = "interrupted" // fewer epochs than planned and no end-of-training files
	StatusUnknown     = "unknown"     // nothing on disk tells
	// StatusRunning marks a link of a delta chain written while the run
	// was still training (format 1.2); replays leave the remote run open.
	StatusRunning = "running"
)

// RowTypes maps each table of this format version to a value of its row
// type, for readers that check a table's columns.
var RowTypes = map[string]any{
	TableRun:         RunRow{},
	TableScalars:     ScalarRow{},
	TableParams:      ParamRow{},
	TableSummary:     SummaryRow{},
	TableImages:      ImageRow{},
	TableAnnotations: AnnotationRow{},
	TableAssets:      AssetRow{},
	TableGaps:        GapRow{},
	TableLogs:        LogRow{},
}
