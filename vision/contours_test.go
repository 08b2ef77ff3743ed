package vision_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

func TestPolygons_FixtureMasks(t *testing.T) {
	// The two masks of the Ultralytics 8.3.166 segment fixture's
	// predictions.json, and what cv2 returned for them in the recorded
	// Comet callback.
	for _, tc := range []struct {
		name, counts string
		want         [][]int32
	}{
		{"AllZeros", "PP9", nil},
		{"AllOnes", "0PP9", [][]int32{{0, 0, 0, 95, 95, 95, 95, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := mask.ParseRLEString(96, 96, tc.counts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := vision.Polygons(r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			full, err := vision.PolygonsFromMask(96, 96, r.Decode())
			if err != nil || !reflect.DeepEqual(full, tc.want) {
				t.Errorf("PolygonsFromMask: got %v, %v, want %v", full, err, tc.want)
			}
		})
	}
}

// TestPolygons_MatchReference checks gocv's contours against the pure-Go
// reference implementation of OpenCV's border following
// (reference_test.go) exactly: the same polygons in the same order, each
// with the same start point and direction.
func TestPolygons_MatchReference(t *testing.T) {
	compared, polys, holes := 0, 0, 0
	cases := append(maskCases(), sparseCases(100)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := refPolygons(tc.h, tc.w, tc.mask)
			got, err := vision.PolygonsFromMask(tc.h, tc.w, tc.mask)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("gocv      %v\nreference %v", got, want)
			}
			crop, err := vision.Polygons(mask.Encode(tc.h, tc.w, tc.mask))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(crop, want) {
				t.Fatalf("gocv on the crop %v\nreference        %v", crop, want)
			}
			compared++
			polys += len(got)
			holes += refHoles(tc.h, tc.w, tc.mask)
		})
	}
	t.Logf("compared %d masks with %d polygons, %d of them holes", compared, polys, holes)
	// The comparison must have covered real shapes, holes included.
	if compared < 500 || polys < 1500 || holes < 200 {
		t.Errorf("compared only %d masks with %d polygons, %d of them holes", compared, polys, holes)
	}
}

// TestPolygons_DropsShortContours checks that contours of fewer than 3
// points are dropped, as Ultralytics does: OpenCV gives 1 point for a
// single pixel and 2 for a straight line of width 1.
func TestPolygons_DropsShortContours(t *testing.T) {
	for _, name := range []string{"SinglePixel", "SinglePixelCorner", "TwoPixelsH", "TwoPixelsDiag", "HorizontalLine", "VerticalLine", "Diagonal", "AntiDiagonal", "FullRowTop", "FullColumnRight"} {
		t.Run(name, func(t *testing.T) {
			tc := shapeCase(t, name)
			if n := len(refContours(tc.h, tc.w, tc.mask)); n == 0 {
				t.Fatal("the reference finds no contour at all")
			}
			got, err := vision.Polygons(mask.Encode(tc.h, tc.w, tc.mask))
			if err != nil || len(got) != 0 {
				t.Errorf("got %v, %v, want no polygons", got, err)
			}
		})
	}
	t.Run("LineNextToBlob", func(t *testing.T) {
		// A 1-pixel line is dropped, the square beside it is kept.
		m := masktest.Of(10, 10, func(x, y int) bool { return (y == 1 && x < 5) || (x >= 6 && y >= 6) })
		got, err := vision.PolygonsFromMask(10, 10, m)
		want := [][]int32{{6, 6, 6, 9, 9, 9, 9, 6}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, %v, want %v", got, err, want)
		}
	})
}

// TestPolygons_RingHasInnerContour checks a hole's own polygon: RETR_LIST
// returns the inner border as a separate polygon, found after (so listed
// before) the outer one.
func TestPolygons_RingHasInnerContour(t *testing.T) {
	tc := shapeCase(t, "SquareFrame")
	got, err := vision.Polygons(mask.Encode(tc.h, tc.w, tc.mask))
	want := [][]int32{
		// The hole's border: the frame pixels next to the hole, its
		// corners cut (they touch the hole only diagonally), starting
		// left of the hole's first pixel and running clockwise on screen.
		{3, 4, 4, 3, 15, 3, 16, 4, 16, 15, 15, 16, 4, 16, 3, 15},
		// The outer border, counter-clockwise on screen.
		{2, 2, 2, 17, 17, 17, 17, 2},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v, want %v", got, err, want)
	}
}

// TestPolygons_CropEqualsFull is the proof that running OpenCV on the
// bounding-box crop and shifting the points back gives exactly what the
// full mask gives, on many masks whose crop is much smaller than the
// image as well as on masks that touch the image's edges.
func TestPolygons_CropEqualsFull(t *testing.T) {
	cropped := 0
	for _, tc := range append(sparseCases(400), maskCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			full, err := vision.PolygonsFromMask(tc.h, tc.w, tc.mask)
			if err != nil {
				t.Fatal(err)
			}
			r := mask.Encode(tc.h, tc.w, tc.mask)
			crop, err := vision.Polygons(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(full) == 0 && len(crop) == 0 {
				return
			}
			if !reflect.DeepEqual(full, crop) {
				t.Fatalf("full %v\ncrop %v", full, crop)
			}
			if b := r.Bounds(); b.X0 > 0 && b.Y0 > 0 && b.X1 < tc.w && b.Y1 < tc.h {
				cropped++
			}
		})
	}
	if cropped < 200 {
		t.Errorf("only %d masks had a crop away from every edge", cropped)
	}
}

func TestPolygons_BadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    mask.RLE
	}{
		{"ZeroRLE", mask.RLE{}},
		{"ShortCounts", mask.RLE{Height: 4, Width: 4, Counts: []uint32{3, 4}}},
		{"LongCounts", mask.RLE{Height: 4, Width: 4, Counts: []uint32{3, 4, 10}}},
		{"Huge", mask.RLE{Height: 1 << 20, Width: 1 << 20, Counts: []uint32{1 << 30}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := vision.Polygons(tc.r); !errors.Is(err, mask.ErrBadRLE) {
				t.Errorf("err = %v, want ErrBadRLE", err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		h, w int
		mask []byte
	}{
		{"WrongLength", 3, 3, make([]byte, 8)},
		{"ZeroSize", 0, 3, nil},
		{"Negative", -3, -3, make([]byte, 9)},
		{"Huge", 1 << 16, 1 << 16, nil},
	} {
		t.Run("FromMask"+tc.name, func(t *testing.T) {
			if _, err := vision.PolygonsFromMask(tc.h, tc.w, tc.mask); !errors.Is(err, mask.ErrBadRLE) {
				t.Errorf("err = %v, want ErrBadRLE", err)
			}
		})
	}
}

func shapeCase(t *testing.T, name string) maskCase {
	t.Helper()
	for _, tc := range shapeCases() {
		if tc.name == name {
			return tc
		}
	}
	t.Fatalf("no shape %q", name)
	return maskCase{}
}

// TestPolygons_Concurrent runs Polygons from several goroutines at once
// (convert does): results must not depend on it (run with -race too).
func TestPolygons_Concurrent(t *testing.T) {
	cases := sparseCases(40)
	want := make([][][]int32, len(cases))
	for i, tc := range cases {
		want[i] = refPolygons(tc.h, tc.w, tc.mask)
	}
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for k := 0; k < 3; k++ {
				for i, tc := range cases {
					got, err := vision.Polygons(mask.Encode(tc.h, tc.w, tc.mask))
					if err == nil && (len(got) > 0 || len(want[i]) > 0) && !reflect.DeepEqual(got, want[i]) {
						err = fmt.Errorf("%s: got %v, want %v", tc.name, got, want[i])
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
