package schemas

// Annotation layers (AnnotationRow.Layer), named as Comet names them.
const (
	LayerGroundTruth = "ground_truth"
	LayerPrediction  = "prediction"
)

// AnnotationRow is one object on one image, from the dataset's labels
// (ground truth) or from predictions.json: a row of the "annotations" table.
// Coordinates are in original-image pixels.
type AnnotationRow struct {
	// Image is the image's key: the COCO image_id as text (an integer when
	// the file stem is numeric, else the stem), as Ultralytics derives it.
	Image string `parquet:"image,dict" json:"image"`
	// ImageFile is the image's file name relative to the dataset root when
	// known (joins with ImageRow.FileName).
	ImageFile string `parquet:"image_file,dict" json:"image_file"`
	// Layer is LayerGroundTruth or LayerPrediction.
	Layer string `parquet:"layer,dict" json:"layer"`
	// ClassID is the 0-based class index; -1 when it could not be mapped.
	ClassID int32 `parquet:"class_id" json:"class_id"`
	// CategoryID is predictions.json's raw category_id.
	CategoryID *int32 `parquet:"category_id,optional" json:"category_id,omitempty"`
	// Label is the class name, or "class_<id>" when names are unknown.
	Label string `parquet:"label,dict" json:"label"`
	// Score is the prediction's confidence in [0, 1]; null for ground truth.
	Score *float64 `parquet:"score,optional" json:"score,omitempty"`
	// BoxX, BoxY, BoxW, BoxH are the axis-aligned box: top-left corner,
	// width and height.
	BoxX *float64 `parquet:"box_x,optional" json:"box_x,omitempty"`
	BoxY *float64 `parquet:"box_y,optional" json:"box_y,omitempty"`
	BoxW *float64 `parquet:"box_w,optional" json:"box_w,omitempty"`
	BoxH *float64 `parquet:"box_h,optional" json:"box_h,omitempty"`
	// RBox is an oriented box [cx, cy, w, h, angle_rad] (obb).
	RBox []float64 `parquet:"rbox,list" json:"rbox,omitempty"`
	// Polygons are flat [x1, y1, x2, y2, ...] outlines: mask contours of
	// segment predictions (OpenCV RETR_LIST, CHAIN_APPROX_SIMPLE, 3+
	// points), label polygons of segment ground truth, the corner polygon
	// of obb objects.
	Polygons [][]float64 `parquet:"polygons,list" json:"polygons,omitempty"`
	// Keypoints are flat [x1, y1, v1, x2, y2, v2, ...] (pose).
	Keypoints []float64 `parquet:"keypoints,list" json:"keypoints,omitempty"`
	// MaskRLE is the COCO compressed RLE of a segmentation mask, with
	// MaskHeight and MaskWidth, in COCO's compressed string form (list-form
	// counts in predictions.json are converted to it).
	MaskRLE    *string `parquet:"mask_rle,optional" json:"mask_rle,omitempty"`
	MaskHeight *int32  `parquet:"mask_height,optional" json:"mask_height,omitempty"`
	MaskWidth  *int32  `parquet:"mask_width,optional" json:"mask_width,omitempty"`
	// Origin is the file the annotation came from, e.g. "predictions.json"
	// or "labels/val/000017.txt".
	Origin string `parquet:"origin,dict" json:"origin"`
	// Index is the annotation's 0-based position in its origin file.
	Index int64 `parquet:"index" json:"index"`
}
