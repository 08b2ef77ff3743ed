//go:build matprofile

package vision_test

import (
	"testing"

	"gocv.io/x/gocv"

	"github.com/yoloarchive/yoloarchive/vision"
)

// TestPolygons_NoMatLeak runs with -tags matprofile: every Mat the package
// creates must be closed.
func TestPolygons_NoMatLeak(t *testing.T) {
	before := gocv.MatProfile.Count()
	for _, tc := range maskCases()[:100] {
		if _, err := vision.Polygons(vision.EncodeMask(tc.h, tc.w, tc.mask)); err != nil {
			t.Fatal(err)
		}
	}
	if n := gocv.MatProfile.Count() - before; n != 0 {
		t.Errorf("%d Mats leaked", n)
	}
}
