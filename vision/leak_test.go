//go:build matprofile

package vision_test

import (
	"testing"

	"gocv.io/x/gocv"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// TestPolygons_NoMatLeak runs with -tags matprofile (which makes gocv
// count live Mats): after every path through the package, masks with and
// without polygons, crops and full masks, bad input, no Mat may be left.
//
//	go test -tags matprofile -run NoMatLeak ./vision
func TestPolygons_NoMatLeak(t *testing.T) {
	for _, tc := range append(maskCases(), sparseCases(100)...) {
		if _, err := vision.Polygons(mask.Encode(tc.h, tc.w, tc.mask)); err != nil {
			t.Fatal(err)
		}
		if _, err := vision.PolygonsFromMask(tc.h, tc.w, tc.mask); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := vision.Polygons(mask.RLE{Height: 2, Width: 2, Counts: []uint32{5}}); err == nil {
		t.Fatal("a bad RLE was accepted")
	}
	if _, err := vision.PolygonsFromMask(2, 2, []byte{1}); err == nil {
		t.Fatal("a bad mask was accepted")
	}
	if n := gocv.MatProfile.Count(); n != 0 {
		var b []byte
		gocv.MatProfile.WriteTo(writerFunc(func(p []byte) (int, error) { b = append(b, p...); return len(p), nil }), 1)
		t.Errorf("got %d live Mats, want 0:\n%s", n, b)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
