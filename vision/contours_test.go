package vision_test

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
)

// maskOf builds a row-major mask from a predicate.
func maskOf(h, w int, in func(x, y int) bool) []byte {
	m := make([]byte, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if in(x, y) {
				m[y*w+x] = 1
			}
		}
	}
	return m
}

func ellipse(cx, cy, rx, ry float64) func(x, y int) bool {
	return func(x, y int) bool {
		dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
		return dx*dx+dy*dy <= 1
	}
}

// randomBlobs draws n random ellipses, some with holes, into an h×w mask.
func randomBlobs(rng *rand.Rand, h, w, n int) []byte {
	m := make([]byte, h*w)
	for i := 0; i < n; i++ {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		rx, ry := 1+rng.Float64()*float64(w)/4, 1+rng.Float64()*float64(h)/4
		in := ellipse(cx, cy, rx, ry)
		hole := rng.Intn(3) == 0
		inner := ellipse(cx, cy, rx/2, ry/2)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if in(x, y) && !(hole && inner(x, y)) {
					m[y*w+x] = 1
				}
			}
		}
	}
	return m
}

// noise sets random pixels: single pixels, lines and ragged shapes.
func noise(rng *rand.Rand, h, w int, p float64) []byte {
	m := make([]byte, h*w)
	for i := range m {
		if rng.Float64() < p {
			m[i] = 1
		}
	}
	return m
}

type maskCase struct {
	name string
	h, w int
	mask []byte
}

func maskCases() []maskCase {
	rng := rand.New(rand.NewSource(1))
	cases := []maskCase{
		{"AllOnes96", 96, 96, maskOf(96, 96, func(x, y int) bool { return true })},
		{"AllZeros96", 96, 96, maskOf(96, 96, func(x, y int) bool { return false })},
		{"Rectangle", 40, 50, maskOf(40, 50, func(x, y int) bool { return x >= 5 && x < 30 && y >= 10 && y < 20 })},
		{"Disk", 64, 64, maskOf(64, 64, ellipse(32, 32, 20, 20))},
		{"Ellipse", 60, 90, maskOf(60, 90, ellipse(40, 30, 35, 12))},
		{"Ring", 64, 64, maskOf(64, 64, func(x, y int) bool { return ellipse(32, 32, 25, 25)(x, y) && !ellipse(32, 32, 12, 12)(x, y) })},
		{"TwoBlobs", 50, 50, maskOf(50, 50, func(x, y int) bool { return ellipse(10, 10, 6, 6)(x, y) || ellipse(35, 38, 9, 5)(x, y) })},
		{"SinglePixel", 10, 10, maskOf(10, 10, func(x, y int) bool { return x == 4 && y == 6 })},
		{"HorizontalLine", 10, 10, maskOf(10, 10, func(x, y int) bool { return y == 3 && x >= 2 && x < 8 })},
		{"VerticalLine2px", 10, 10, maskOf(10, 10, func(x, y int) bool { return x >= 3 && x < 5 && y >= 1 && y < 9 })},
		{"Diagonal", 12, 12, maskOf(12, 12, func(x, y int) bool { return x == y })},
		{"TouchingBorders", 20, 30, maskOf(20, 30, func(x, y int) bool { return x < 4 || y > 16 || (x > 25 && y < 3) })},
		{"Checkerboard", 8, 8, maskOf(8, 8, func(x, y int) bool { return (x+y)%2 == 0 })},
		{"HoleInHole", 80, 80, maskOf(80, 80, func(x, y int) bool {
			r := math.Hypot(float64(x)-40, float64(y)-40)
			return r < 35 && !(r < 25 && r >= 15)
		})},
	}
	for i := 0; i < 250; i++ {
		h, w := 1+rng.Intn(70), 1+rng.Intn(70)
		cases = append(cases, maskCase{fmt.Sprintf("RandomBlobs%d", i), h, w, randomBlobs(rng, h, w, 1+rng.Intn(4))})
	}
	for i := 0; i < 250; i++ {
		h, w := 1+rng.Intn(30), 1+rng.Intn(30)
		cases = append(cases, maskCase{fmt.Sprintf("Noise%d", i), h, w, noise(rng, h, w, 0.1+0.6*rng.Float64())})
	}
	return cases
}

func TestPolygons_FixtureMasks(t *testing.T) {
	// The two masks of the Ultralytics 8.3.166 segment fixture, and what
	// cv2 returned for them in the recorded Comet callback.
	for _, tc := range []struct {
		counts string
		want   [][]int32
	}{
		{"PP9", nil},
		{"0PP9", [][]int32{{0, 0, 0, 95, 95, 95, 95, 0}}},
	} {
		r, err := vision.ParseRLEString(96, 96, tc.counts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := vision.Polygons(r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: polygons = %v, want %v", tc.counts, got, tc.want)
		}
	}
}

// TestPolygons_MatchReference checks gocv's contours against the pure-Go
// reference implementation, exactly: same polygons, same order, same
// start point and direction.
func TestPolygons_MatchReference(t *testing.T) {
	compared, polys := 0, 0
	defer func() {
		// The comparison must have covered real shapes, holes included.
		if compared < 400 || polys < 1000 {
			t.Errorf("compared only %d masks with %d polygons", compared, polys)
		}
	}()
	for _, tc := range maskCases() {
		got, err := vision.PolygonsFromMask(tc.h, tc.w, tc.mask)
		if err != nil {
			t.Fatal(err)
		}
		want := refPolygons(tc.h, tc.w, tc.mask)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		compared++
		polys += len(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s (%dx%d): gocv %v\nreference %v", tc.name, tc.h, tc.w, got, want)
		}
	}
}

// TestPolygons_CropEqualsFull checks that contours of the bounding-box crop,
// shifted back, equal contours of the whole mask.
func TestPolygons_CropEqualsFull(t *testing.T) {
	for _, tc := range maskCases() {
		full, err := vision.PolygonsFromMask(tc.h, tc.w, tc.mask)
		if err != nil {
			t.Fatal(err)
		}
		r := vision.EncodeMask(tc.h, tc.w, tc.mask)
		crop, err := vision.Polygons(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(full) == 0 && len(crop) == 0 {
			continue
		}
		if !reflect.DeepEqual(full, crop) {
			t.Errorf("%s: full %v, crop %v", tc.name, full, crop)
		}
	}
}

func TestPolygonsFromMask_BadSize(t *testing.T) {
	if _, err := vision.PolygonsFromMask(3, 3, make([]byte, 8)); err == nil {
		t.Error("a mask of the wrong length was accepted")
	}
}
