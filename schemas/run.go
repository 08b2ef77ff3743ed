package schemas

import "time"

// RunRow is the single row of the "run" table: who the run is and what is
// known about it.
type RunRow struct {
	// RunID is the run's stable identity: 32 lower-case hex digits derived
	// from identifying content (see FORMAT.md, "Identity"). Capturing the
	// same run again, on any machine, gives the same id.
	RunID string `parquet:"run_id" json:"run_id"`
	// SourceKind is one of the Source* constants.
	SourceKind string `parquet:"source_kind" json:"source_kind"`
	// SourceName is the base name of the captured directory or file.
	SourceName string `parquet:"source_name" json:"source_name"`
	// Task is detect, segment, pose, obb or classify; empty when unknown.
	Task string `parquet:"task" json:"task"`
	// Mode is train or val.
	Mode string `parquet:"mode" json:"mode"`
	// UltralyticsVersion is the exact version, known only from a checkpoint.
	UltralyticsVersion *string `parquet:"ultralytics_version,optional" json:"ultralytics_version,omitempty"`
	// VersionMin and VersionMax bound the version inferred from the files
	// (args.yaml keys, results.csv format, plot names, predictions.json).
	VersionMin *string `parquet:"version_min,optional" json:"version_min,omitempty"`
	VersionMax *string `parquet:"version_max,optional" json:"version_max,omitempty"`
	// VersionEvidence lists the facts the version range rests on.
	VersionEvidence []string `parquet:"version_evidence,list" json:"version_evidence,omitempty"`
	// Project and Name are the run's project and name as Ultralytics
	// recorded them in args.yaml (Name falls back to the directory name).
	Project string `parquet:"project" json:"project"`
	Name    string `parquet:"name" json:"name"`
	// SaveDir is the run directory path recorded by the run itself.
	SaveDir string `parquet:"save_dir" json:"save_dir"`
	// StartedAt and EndedAt are the run's start and end, when known.
	StartedAt *time.Time `parquet:"started_at,optional,timestamp(millisecond)" json:"started_at,omitempty"`
	EndedAt   *time.Time `parquet:"ended_at,optional,timestamp(millisecond)" json:"ended_at,omitempty"`
	// TimeSource says where StartedAt and EndedAt come from ("file-mtime"
	// for run directories: approximate).
	TimeSource string `parquet:"time_source" json:"time_source"`
	// EpochsPlanned is the epochs argument; EpochsCompleted the number of
	// epochs with a results row.
	EpochsPlanned   *int64 `parquet:"epochs_planned,optional" json:"epochs_planned,omitempty"`
	EpochsCompleted int64  `parquet:"epochs_completed" json:"epochs_completed"`
	// CSVEpochBase is the epoch number of the first results.csv row in the
	// file's own numbering: 0 for runs before Ultralytics 8.0.162 and YOLOv5,
	// 1 after. Scalars are always stored with 1-based epochs.
	CSVEpochBase int32 `parquet:"csv_epoch_base" json:"csv_epoch_base"`
	// ResultsFormat names the results.csv dialect that was parsed.
	ResultsFormat string `parquet:"results_format" json:"results_format"`
	// Status is one of the Status* constants.
	Status string `parquet:"status" json:"status"`
	// BestEpoch is the 1-based epoch Ultralytics would have saved as
	// best.pt (first epoch of maximum fitness), when derivable.
	BestEpoch *int64 `parquet:"best_epoch,optional" json:"best_epoch,omitempty"`
	// ClassNames are the class names by class index, when known.
	ClassNames []string `parquet:"class_names,list" json:"class_names,omitempty"`
	// Dataset is the data argument as recorded (a path or a name);
	// DatasetResolved tells whether it was found on the capturing machine.
	Dataset         string `parquet:"dataset" json:"dataset"`
	DatasetResolved bool   `parquet:"dataset_resolved" json:"dataset_resolved"`
	// TrainImages is the number of training images in the dataset (after
	// the fraction argument), when the dataset resolved.
	TrainImages *int64 `parquet:"train_images,optional" json:"train_images,omitempty"`
	// Batch is the batch size the run trained with, when known (args.yaml
	// records -1 for AutoBatch).
	Batch *int64 `parquet:"batch,optional" json:"batch,omitempty"`
	// Tags are the tags a tracker session recorded. Added in format 1.1.
	Tags []string `parquet:"tags,list" json:"tags,omitempty"`
	// SessionID is the tracker session's own id (ClearML offline task id,
	// Comet offline_id); empty for run directories. Added in format 1.1.
	SessionID string `parquet:"session_id" json:"session_id,omitempty"`
	// Producer is the training code that wrote the run: ProducerUltralytics
	// (8.x) or ProducerYOLOv5; empty when unknown. A tracker session's is
	// recognised from what it logged. Added in format 1.3.
	Producer string `parquet:"producer" json:"producer,omitempty"`
}

// Producers (RunRow.Producer).
const (
	ProducerUltralytics = "ultralytics"
	ProducerYOLOv5      = "yolov5"
)
