package vision_test

import (
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

// FuzzPolygons checks, for every COCO RLE string that parses into a small
// mask, that the polygons of the cropped mask are those of the whole mask
// (the crop in Polygons relies on OpenCV padding its input). The seeds are
// FuzzParseRLEString's (package mask).
func FuzzPolygons(f *testing.F) {
	masktest.AddRLESeeds(f)
	f.Fuzz(func(t *testing.T, h, w int, s string) {
		r, err := mask.ParseRLEString(h, w, s)
		if err != nil || h*w > 1<<16 {
			return // parsing is FuzzParseRLEString's; keep each input fast
		}
		crop, err := vision.Polygons(r)
		if err != nil {
			t.Fatal(err)
		}
		full, err := vision.PolygonsFromMask(h, w, r.Decode())
		if err != nil {
			t.Fatal(err)
		}
		if (len(crop) > 0 || len(full) > 0) && !reflect.DeepEqual(crop, full) {
			t.Fatalf("crop %v, full %v", crop, full)
		}
	})
}
