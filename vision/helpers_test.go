package vision_test

import (
	"fmt"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
	"math"
	"math/rand"
)

type maskCase struct {
	name string
	h, w int
	mask []byte
}

// shapeCases are hand-made masks for the contour tests: each kind of
// shape the brief names, inside the image and touching its edges.
func shapeCases() []maskCase {
	ring := func(cx, cy, r0, r1 float64) func(x, y int) bool {
		return func(x, y int) bool {
			return masktest.Ellipse(cx, cy, r1, r1)(x, y) && !masktest.Ellipse(cx, cy, r0, r0)(x, y)
		}
	}
	return []maskCase{
		{"AllOnes96", 96, 96, masktest.Of(96, 96, func(x, y int) bool { return true })},
		{"AllZeros96", 96, 96, masktest.Of(96, 96, func(x, y int) bool { return false })},
		{"OnePixelImage", 1, 1, []byte{1}},
		{"Rectangle", 40, 50, masktest.Of(40, 50, func(x, y int) bool { return x >= 5 && x < 30 && y >= 10 && y < 20 })},
		{"Square3x3", 9, 9, masktest.Of(9, 9, func(x, y int) bool { return x >= 3 && x < 6 && y >= 3 && y < 6 })},
		{"Disk", 64, 64, masktest.Of(64, 64, masktest.Ellipse(32, 32, 20, 20))},
		{"SmallDisk", 16, 16, masktest.Of(16, 16, masktest.Ellipse(8, 8, 2.5, 2.5))},
		{"Ellipse", 60, 90, masktest.Of(60, 90, masktest.Ellipse(40, 30, 35, 12))},
		{"TallEllipse", 90, 40, masktest.Of(90, 40, masktest.Ellipse(20, 45, 9, 40))},
		{"Ring", 64, 64, masktest.Of(64, 64, ring(32, 32, 12, 25))},
		{"ThinRing", 40, 40, masktest.Of(40, 40, ring(20, 20, 14, 15.5))},
		{"SquareFrame", 20, 20, masktest.Of(20, 20, func(x, y int) bool {
			return x >= 2 && x < 18 && y >= 2 && y < 18 && !(x >= 4 && x < 16 && y >= 4 && y < 16)
		})},
		{"OnePixelHole", 7, 7, masktest.Of(7, 7, func(x, y int) bool { return x >= 1 && x < 6 && y >= 1 && y < 6 && !(x == 3 && y == 3) })},
		{"HoleInHole", 80, 80, masktest.Of(80, 80, func(x, y int) bool {
			r := math.Hypot(float64(x)-40, float64(y)-40)
			return r < 35 && !(r < 25 && r >= 15)
		})},
		{"TwoBlobs", 50, 50, masktest.Of(50, 50, func(x, y int) bool {
			return masktest.Ellipse(10, 10, 6, 6)(x, y) || masktest.Ellipse(35, 38, 9, 5)(x, y)
		})},
		{"ManyBlobs", 60, 60, masktest.Of(60, 60, func(x, y int) bool { return (x/10+y/10)%2 == 0 && x%10 > 1 && y%10 > 2 })},
		{"SinglePixel", 10, 10, masktest.Of(10, 10, func(x, y int) bool { return x == 4 && y == 6 })},
		{"SinglePixelCorner", 10, 10, masktest.Of(10, 10, func(x, y int) bool { return x == 9 && y == 9 })},
		{"TwoPixelsH", 10, 10, masktest.Of(10, 10, func(x, y int) bool { return y == 5 && (x == 4 || x == 5) })},
		{"TwoPixelsDiag", 10, 10, masktest.Of(10, 10, func(x, y int) bool { return (x == 4 && y == 4) || (x == 5 && y == 5) })},
		{"HorizontalLine", 10, 10, masktest.Of(10, 10, func(x, y int) bool { return y == 3 && x >= 2 && x < 8 })},
		{"VerticalLine", 10, 10, masktest.Of(10, 10, func(x, y int) bool { return x == 7 && y >= 1 && y < 9 })},
		{"HorizontalLine2px", 10, 12, masktest.Of(10, 12, func(x, y int) bool { return y >= 4 && y < 6 && x >= 1 && x < 11 })},
		{"VerticalLine2px", 10, 10, masktest.Of(10, 10, func(x, y int) bool { return x >= 3 && x < 5 && y >= 1 && y < 9 })},
		{"Diagonal", 12, 12, masktest.Of(12, 12, func(x, y int) bool { return x == y })},
		{"AntiDiagonal", 12, 12, masktest.Of(12, 12, func(x, y int) bool { return x+y == 11 })},
		{"LShape", 20, 20, masktest.Of(20, 20, func(x, y int) bool {
			return (x >= 3 && x < 6 && y >= 3 && y < 17) || (y >= 14 && y < 17 && x >= 3 && x < 15)
		})},
		{"TouchingBorders", 20, 30, masktest.Of(20, 30, func(x, y int) bool { return x < 4 || y > 16 || (x > 25 && y < 3) })},
		{"DiskOverEdges", 40, 40, masktest.Of(40, 40, masktest.Ellipse(0, 39, 25, 18))},
		{"FullRowTop", 8, 8, masktest.Of(8, 8, func(x, y int) bool { return y == 0 })},
		{"FullColumnRight", 8, 8, masktest.Of(8, 8, func(x, y int) bool { return x == 7 })},
		{"OneRowImage", 1, 20, masktest.Of(1, 20, func(x, y int) bool { return x%5 != 0 })},
		{"OneColumnImage", 20, 1, masktest.Of(20, 1, func(x, y int) bool { return y%5 != 0 })},
		{"Checkerboard", 8, 8, masktest.Of(8, 8, func(x, y int) bool { return (x+y)%2 == 0 })},
	}
}

// maskCases are shapeCases plus ~500 seeded random masks: blobs (with
// holes, over the edges) and noise (single pixels, lines, ragged shapes).
func maskCases() []maskCase {
	rng := rand.New(rand.NewSource(1))
	cases := shapeCases()
	for i := 0; i < 250; i++ {
		h, w := 1+rng.Intn(70), 1+rng.Intn(70)
		cases = append(cases, maskCase{fmt.Sprintf("RandomBlobs%d", i), h, w, masktest.RandomBlobs(rng, h, w, 1+rng.Intn(4))})
	}
	for i := 0; i < 250; i++ {
		h, w := 1+rng.Intn(30), 1+rng.Intn(30)
		cases = append(cases, maskCase{fmt.Sprintf("Noise%d", i), h, w, masktest.Noise(rng, h, w, 0.1+0.6*rng.Float64())})
	}
	return cases
}

// sparseCases are masks with small objects on larger images, so that
// their bounding box is much smaller than the image: the case the crop in
// Polygons is for.
func sparseCases(n int) []maskCase {
	rng := rand.New(rand.NewSource(2))
	var cases []maskCase
	for i := 0; i < n; i++ {
		h, w := 20+rng.Intn(140), 20+rng.Intn(140)
		m := make([]byte, h*w)
		for k := 0; k < 1+rng.Intn(3); k++ {
			masktest.Object(rng, m, h, w, 1+rng.Intn(3), 2+rng.Float64()*float64(min(h, w))/6)
		}
		if i%5 == 0 { // a few stray pixels and specks too
			for k := 0; k < 3; k++ {
				m[rng.Intn(h*w)] = 1
			}
		}
		cases = append(cases, maskCase{fmt.Sprintf("Sparse%d", i), h, w, m})
	}
	return cases
}
