package convert

import (
	"runtime"

	"github.com/yoloarchive/yoloarchive/vision/contours"
)

// DefaultDatasetImages is how many validation images of the dataset a
// capture stores by default, for the trackers' image-prediction views.
const DefaultDatasetImages = 500

// Options configure a capture. The zero value captures everything with
// the defaults.
type Options struct {
	// NoWeights leaves weights/best.pt and weights/last.pt out.
	NoWeights bool
	// AllWeights also stores the periodic checkpoints weights/epoch{N}.pt,
	// which are left out by default.
	AllWeights bool
	// Data is the dataset yaml to read ground truth, class names and the
	// training image count from, overriding the run's data setting.
	Data string
	// DatasetImages caps how many validation images referenced by
	// predictions.json are stored (0 means DefaultDatasetImages; negative
	// means none).
	DatasetImages int
	// SkipBadMasks captures a predictions.json holding segmentation masks
	// that do not decode, keeping those predictions without polygons (as
	// Ultralytics' Comet callback does) and recording a gap. Without it
	// such a file is an error.
	SkipBadMasks bool
	// NoPolygons keeps the segmentation masks of predictions.json as COCO
	// RLE without computing their polygons (which needs the contours
	// helper and OpenCV), and records a gap.
	NoPolygons bool
	// Contours is the helper that computes mask polygons; nil means the
	// process's shared one (contours.Default).
	Contours *contours.Helper
	// Workers is the parallelism for hashing and mask contours (default
	// GOMAXPROCS).
	Workers int
	// Writer names the program writing the archive, for its header.
	Writer string
	// Sessions are tracker sessions (ClearML offline session folders or
	// zips, Comet offline zips) of the captured run directory to merge
	// into its archive.
	Sessions []string
	// Growing reads a run directory Ultralytics is still writing: a
	// results.csv line without its newline yet is left for the next look
	// (capture --follow).
	Growing bool
}

func (o Options) withDefaults() Options {
	if o.DatasetImages == 0 {
		o.DatasetImages = DefaultDatasetImages
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Writer == "" {
		o.Writer = "yoloarchive"
	}
	if o.Contours == nil {
		o.Contours = contours.Default()
	}
	return o
}
