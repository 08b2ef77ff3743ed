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
	Image string `parquet:"image,dict"`
	// ImageFile is the image's file name relative to the dataset root when
	// known (joins with ImageRow.FileName).
	ImageFile string `parquet:"image_file,dict"`
	// Layer is LayerGroundTruth or LayerPrediction.
	Layer string `parquet:"layer,dict"`
	// ClassID is the 0-based class index; -1 when it could not be mapped.
	ClassID int32 `parquet:"class_id"`
	// CategoryID is predictions.json's raw category_id.
	CategoryID *int32 `parquet:"category_id,optional"`
	// Label is the class name, or "class_<id>" when names are unknown.
	Label string `parquet:"label,dict"`
	// Score is the prediction's confidence in [0, 1]; null for ground truth.
	Score *float64 `parquet:"score,optional"`
	// BoxX, BoxY, BoxW, BoxH are the axis-aligned box: top-left corner,
	// width and height.
	BoxX *float64 `parquet:"box_x,optional"`
	BoxY *float64 `parquet:"box_y,optional"`
	BoxW *float64 `parquet:"box_w,optional"`
	BoxH *float64 `parquet:"box_h,optional"`
	// RBox is an oriented box [cx, cy, w, h, angle_rad] (obb).
	RBox []float64 `parquet:"rbox,list"`
	// Polygons are flat [x1, y1, x2, y2, ...] outlines: mask contours of
	// segment predictions (OpenCV RETR_LIST, CHAIN_APPROX_SIMPLE, 3+
	// points), label polygons of segment ground truth, the corner polygon
	// of obb objects.
	Polygons [][]float64 `parquet:"polygons,list"`
	// Keypoints are flat [x1, y1, v1, x2, y2, v2, ...] (pose).
	Keypoints []float64 `parquet:"keypoints,list"`
	// MaskRLE is the COCO compressed RLE of a segmentation mask, with
	// MaskHeight and MaskWidth, kept verbatim from predictions.json.
	MaskRLE    *string `parquet:"mask_rle,optional"`
	MaskHeight *int32  `parquet:"mask_height,optional"`
	MaskWidth  *int32  `parquet:"mask_width,optional"`
	// Origin is the file the annotation came from, e.g. "predictions.json"
	// or "labels/val/000017.txt".
	Origin string `parquet:"origin,dict"`
	// Index is the annotation's 0-based position in its origin file.
	Index int64 `parquet:"index"`
}
