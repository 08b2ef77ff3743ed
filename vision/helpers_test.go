package vision_test

import (
	"fmt"
	"math"
	"math/rand"
)

// maskOf builds a row-major h×w mask from a predicate.
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

// ellipse is the filled axis-aligned ellipse centred on (cx, cy).
func ellipse(cx, cy, rx, ry float64) func(x, y int) bool {
	return func(x, y int) bool {
		dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
		return dx*dx+dy*dy <= 1
	}
}

// paint sets the pixels of m (h×w) inside the bounding box [x0, x1) ×
// [y0, y1) for which in is true.
func paint(m []byte, h, w int, x0, y0, x1, y1 float64, in func(x, y int) bool) {
	for y := max(int(y0), 0); y < min(int(math.Ceil(y1))+1, h); y++ {
		for x := max(int(x0), 0); x < min(int(math.Ceil(x1))+1, w); x++ {
			if in(x, y) {
				m[y*w+x] = 1
			}
		}
	}
}

// randomBlobs draws n random ellipses, a third of them with a hole, into
// an h×w mask; they may run over its edges.
func randomBlobs(rng *rand.Rand, h, w, n int) []byte {
	m := make([]byte, h*w)
	for i := 0; i < n; i++ {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		rx, ry := 1+rng.Float64()*float64(w)/4, 1+rng.Float64()*float64(h)/4
		in := ellipse(cx, cy, rx, ry)
		if rng.Intn(3) == 0 {
			inner := ellipse(cx, cy, rx/2, ry/2)
			outer := in
			in = func(x, y int) bool { return outer(x, y) && !inner(x, y) }
		}
		paint(m, h, w, cx-rx, cy-ry, cx+rx, cy+ry, in)
	}
	return m
}

// object draws one irregular object, the union of n overlapping ellipses
// of radius up to maxR around a random centre, the way an instance mask
// looks; a quarter of the objects get a hole.
func object(rng *rand.Rand, m []byte, h, w, n int, maxR float64) {
	cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
	for i := 0; i < n; i++ {
		ex := cx + (rng.Float64()-0.5)*maxR
		ey := cy + (rng.Float64()-0.5)*maxR
		rx, ry := 2+rng.Float64()*maxR, 2+rng.Float64()*maxR
		paint(m, h, w, ex-rx, ey-ry, ex+rx, ey+ry, ellipse(ex, ey, rx, ry))
	}
	if rng.Intn(4) == 0 {
		r := 1 + maxR/4
		hole := ellipse(cx, cy, r, r*0.7)
		for y := max(int(cy-r), 0); y < min(int(cy+r)+1, h); y++ {
			for x := max(int(cx-r), 0); x < min(int(cx+r)+1, w); x++ {
				if hole(x, y) {
					m[y*w+x] = 0
				}
			}
		}
	}
}

// noise sets each pixel with probability p: single pixels, short lines
// and ragged shapes.
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

// shapeCases are hand-made masks for the contour tests: each kind of
// shape the brief names, inside the image and touching its edges.
func shapeCases() []maskCase {
	ring := func(cx, cy, r0, r1 float64) func(x, y int) bool {
		return func(x, y int) bool { return ellipse(cx, cy, r1, r1)(x, y) && !ellipse(cx, cy, r0, r0)(x, y) }
	}
	return []maskCase{
		{"AllOnes96", 96, 96, maskOf(96, 96, func(x, y int) bool { return true })},
		{"AllZeros96", 96, 96, maskOf(96, 96, func(x, y int) bool { return false })},
		{"OnePixelImage", 1, 1, []byte{1}},
		{"Rectangle", 40, 50, maskOf(40, 50, func(x, y int) bool { return x >= 5 && x < 30 && y >= 10 && y < 20 })},
		{"Square3x3", 9, 9, maskOf(9, 9, func(x, y int) bool { return x >= 3 && x < 6 && y >= 3 && y < 6 })},
		{"Disk", 64, 64, maskOf(64, 64, ellipse(32, 32, 20, 20))},
		{"SmallDisk", 16, 16, maskOf(16, 16, ellipse(8, 8, 2.5, 2.5))},
		{"Ellipse", 60, 90, maskOf(60, 90, ellipse(40, 30, 35, 12))},
		{"TallEllipse", 90, 40, maskOf(90, 40, ellipse(20, 45, 9, 40))},
		{"Ring", 64, 64, maskOf(64, 64, ring(32, 32, 12, 25))},
		{"ThinRing", 40, 40, maskOf(40, 40, ring(20, 20, 14, 15.5))},
		{"SquareFrame", 20, 20, maskOf(20, 20, func(x, y int) bool {
			return x >= 2 && x < 18 && y >= 2 && y < 18 && !(x >= 4 && x < 16 && y >= 4 && y < 16)
		})},
		{"OnePixelHole", 7, 7, maskOf(7, 7, func(x, y int) bool { return x >= 1 && x < 6 && y >= 1 && y < 6 && !(x == 3 && y == 3) })},
		{"HoleInHole", 80, 80, maskOf(80, 80, func(x, y int) bool {
			r := math.Hypot(float64(x)-40, float64(y)-40)
			return r < 35 && !(r < 25 && r >= 15)
		})},
		{"TwoBlobs", 50, 50, maskOf(50, 50, func(x, y int) bool { return ellipse(10, 10, 6, 6)(x, y) || ellipse(35, 38, 9, 5)(x, y) })},
		{"ManyBlobs", 60, 60, maskOf(60, 60, func(x, y int) bool { return (x/10+y/10)%2 == 0 && x%10 > 1 && y%10 > 2 })},
		{"SinglePixel", 10, 10, maskOf(10, 10, func(x, y int) bool { return x == 4 && y == 6 })},
		{"SinglePixelCorner", 10, 10, maskOf(10, 10, func(x, y int) bool { return x == 9 && y == 9 })},
		{"TwoPixelsH", 10, 10, maskOf(10, 10, func(x, y int) bool { return y == 5 && (x == 4 || x == 5) })},
		{"TwoPixelsDiag", 10, 10, maskOf(10, 10, func(x, y int) bool { return (x == 4 && y == 4) || (x == 5 && y == 5) })},
		{"HorizontalLine", 10, 10, maskOf(10, 10, func(x, y int) bool { return y == 3 && x >= 2 && x < 8 })},
		{"VerticalLine", 10, 10, maskOf(10, 10, func(x, y int) bool { return x == 7 && y >= 1 && y < 9 })},
		{"HorizontalLine2px", 10, 12, maskOf(10, 12, func(x, y int) bool { return y >= 4 && y < 6 && x >= 1 && x < 11 })},
		{"VerticalLine2px", 10, 10, maskOf(10, 10, func(x, y int) bool { return x >= 3 && x < 5 && y >= 1 && y < 9 })},
		{"Diagonal", 12, 12, maskOf(12, 12, func(x, y int) bool { return x == y })},
		{"AntiDiagonal", 12, 12, maskOf(12, 12, func(x, y int) bool { return x+y == 11 })},
		{"LShape", 20, 20, maskOf(20, 20, func(x, y int) bool {
			return (x >= 3 && x < 6 && y >= 3 && y < 17) || (y >= 14 && y < 17 && x >= 3 && x < 15)
		})},
		{"TouchingBorders", 20, 30, maskOf(20, 30, func(x, y int) bool { return x < 4 || y > 16 || (x > 25 && y < 3) })},
		{"DiskOverEdges", 40, 40, maskOf(40, 40, ellipse(0, 39, 25, 18))},
		{"FullRowTop", 8, 8, maskOf(8, 8, func(x, y int) bool { return y == 0 })},
		{"FullColumnRight", 8, 8, maskOf(8, 8, func(x, y int) bool { return x == 7 })},
		{"OneRowImage", 1, 20, maskOf(1, 20, func(x, y int) bool { return x%5 != 0 })},
		{"OneColumnImage", 20, 1, maskOf(20, 1, func(x, y int) bool { return y%5 != 0 })},
		{"Checkerboard", 8, 8, maskOf(8, 8, func(x, y int) bool { return (x+y)%2 == 0 })},
	}
}

// maskCases are shapeCases plus ~500 seeded random masks: blobs (with
// holes, over the edges) and noise (single pixels, lines, ragged shapes).
func maskCases() []maskCase {
	rng := rand.New(rand.NewSource(1))
	cases := shapeCases()
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
			object(rng, m, h, w, 1+rng.Intn(3), 2+rng.Float64()*float64(min(h, w))/6)
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
