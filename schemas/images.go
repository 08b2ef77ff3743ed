package schemas

import "time"

// Image roles (ImageRow.Role).
const (
	RoleTrainBatch          = "train_batch"      // train_batch{N}.jpg
	RoleValBatchLabels      = "val_batch_labels" // val_batch{N}_labels.jpg
	RoleValBatchPred        = "val_batch_pred"   // val_batch{N}_pred.jpg
	RoleCurve               = "curve"            // {,Box,Mask,Pose}{PR,F1,P,R}_curve.png
	RoleConfusionMatrix     = "confusion_matrix" // confusion_matrix.png
	RoleConfusionMatrixNorm = "confusion_matrix_normalized"
	RoleLabels              = "labels"             // labels.jpg
	RoleLabelsCorrelogram   = "labels_correlogram" // labels_correlogram.jpg
	RoleResultsPlot         = "results"            // results.png
	RoleDatasetImage        = "dataset_image"      // a validation image of the dataset
	RoleOtherImage          = "other_image"        // any other image in the run directory
	// RoleTrackerImage is an image a tracker session logged that has no
	// Ultralytics file role (a ClearML debug image, a Comet image).
	RoleTrackerImage = "tracker_image"
)

// ImageRow describes one image: a row of the "images" table.
type ImageRow struct {
	// Blob is the sha256 (hex) of the image's bytes, stored in the archive
	// as "blobs/<sha256>". Empty when the image is described but its bytes
	// were not stored (dataset images beyond the capture limit).
	Blob string `parquet:"blob" json:"blob"`
	// Role is one of the Role* image constants.
	Role string `parquet:"role,dict" json:"role"`
	// FileName is the image's path relative to the run directory, or to
	// the dataset root for dataset images, with "/" separators.
	FileName string `parquet:"file_name" json:"file_name"`
	// Name is the file name without extension, as trackers name images
	// ("train_batch0", "BoxPR_curve", "000017").
	Name string `parquet:"name" json:"name"`
	// Step is the number in the file name: N of train_batch{N}.jpg and
	// val_batch{N}_*.jpg; null for other roles.
	Step *int64 `parquet:"step,optional" json:"step,omitempty"`
	// Width and Height are the pixel size read from the image header.
	Width  int32 `parquet:"width" json:"width"`
	Height int32 `parquet:"height" json:"height"`
	// MediaType is the image's MIME type ("image/jpeg", "image/png").
	MediaType string `parquet:"media_type,dict" json:"media_type"`
	// Size is the file size in bytes.
	Size int64 `parquet:"size" json:"size"`
	// Group and Series are how a tracker session filed the image: the
	// ClearML title and series ("Mosaic", "train.jpg"; plots: "results",
	// "plot image"), or the Comet context and figure name. Empty for run
	// directories. Added in format 1.1.
	Group  string `parquet:"group,dict" json:"group,omitempty"`
	Series string `parquet:"series,dict" json:"series,omitempty"`
	// Kind is how a tracker session logged the image: "debug_image" or
	// "plot" (ClearML), "image" (Comet); empty for run directories.
	Kind string `parquet:"kind,dict" json:"kind,omitempty"`
	// WallTime is when a tracker session logged the image.
	WallTime *time.Time `parquet:"wall_time,optional,timestamp(millisecond)" json:"wall_time,omitempty"`
	// Record is the session's own record of the image (the ClearML event
	// or the Comet file_upload payload, as JSON), kept so that nothing the
	// session said is lost. Added in format 1.1.
	Record string `parquet:"record" json:"record,omitempty"`
	// MTime is the file's modification time in the run directory, UTC,
	// to the nanosecond; null for session images, dataset images and
	// archives older than format 1.4. restore gives it back.
	MTime *time.Time `parquet:"mtime,optional,timestamp(nanosecond)" json:"mtime,omitempty"`
}
