package schemas

import "time"

// Asset roles (AssetRow.Role).
const (
	RoleWeightsBest     = "weights_best"     // weights/best.pt
	RoleWeightsLast     = "weights_last"     // weights/last.pt
	RoleWeightsEpoch    = "weights_epoch"    // weights/epoch{N}.pt
	RoleResultsCSV      = "results_csv"      // results.csv
	RoleArgsYAML        = "args_yaml"        // args.yaml
	RolePredictionsJSON = "predictions_json" // predictions.json
	RoleHypYAML         = "hyp_yaml"         // YOLOv5 hyp.yaml
	RoleOptYAML         = "opt_yaml"         // YOLOv5 opt.yaml
	RoleTensorBoard     = "tensorboard"      // events.out.tfevents.*
	RoleDatasetYAML     = "dataset_yaml"     // the dataset's data.yaml
	RoleOther           = "other"            // any other file of the run directory
	// RoleSessionFile is a tracker session's own file (ClearML task.json,
	// metrics.jsonl, log.jsonl; Comet experiment.json, messages.json),
	// stored so that a future reader can re-derive anything.
	RoleSessionFile = "session_file"
	// RoleTrackerAsset is a file a tracker session uploaded that is not an
	// image (a Comet asset, table or model file; a ClearML artifact).
	RoleTrackerAsset = "tracker_asset"
	// RoleConfusionMatrixData is a session's confusion matrix as numbers
	// (Comet's log_confusion_matrix JSON).
	RoleConfusionMatrixData = "confusion_matrix_data"
)

// AssetRow describes one stored file that is not an image: a row of the
// "assets" table.
type AssetRow struct {
	// Blob is the sha256 (hex) of the file, stored as "blobs/<sha256>".
	Blob string `parquet:"blob" json:"blob"`
	// Role is one of the asset Role* constants.
	Role string `parquet:"role,dict" json:"role"`
	// FileName is the path relative to the run directory, "/"-separated.
	FileName string `parquet:"file_name" json:"file_name"`
	// Size is the file size in bytes.
	Size int64 `parquet:"size" json:"size"`
	// MediaType is the file's MIME type when known.
	MediaType string `parquet:"media_type,dict" json:"media_type"`
	// Record is the session's own record of the file (the Comet
	// file_upload payload, the ClearML output model or artifact, as JSON).
	// Added in format 1.1.
	Record string `parquet:"record" json:"record,omitempty"`
	// MTime is the file's modification time in the run directory, UTC,
	// to the nanosecond; null for session files and archives older than
	// format 1.4. restore gives it back.
	MTime *time.Time `parquet:"mtime,optional,timestamp(nanosecond)" json:"mtime,omitempty"`
}
