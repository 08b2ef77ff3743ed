// Package masktest draws binary masks for tests and benchmarks: filled
// ellipses, random blobs with holes, irregular instance-like objects and
// noise, as row-major h×w byte slices (non-zero = foreground).
package masktest

import (
	"math"
	"math/rand"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// Of builds a row-major h×w mask from a predicate.
func Of(h, w int, in func(x, y int) bool) []byte {
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

// Ellipse is the filled axis-aligned ellipse centred on (cx, cy).
func Ellipse(cx, cy, rx, ry float64) func(x, y int) bool {
	return func(x, y int) bool {
		dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
		return dx*dx+dy*dy <= 1
	}
}

// Paint sets the pixels of m (h×w) inside the bounding box [x0, x1) ×
// [y0, y1) for which in is true.
func Paint(m []byte, h, w int, x0, y0, x1, y1 float64, in func(x, y int) bool) {
	for y := max(int(y0), 0); y < min(int(math.Ceil(y1))+1, h); y++ {
		for x := max(int(x0), 0); x < min(int(math.Ceil(x1))+1, w); x++ {
			if in(x, y) {
				m[y*w+x] = 1
			}
		}
	}
}

// RandomBlobs draws n random ellipses, a third of them with a hole, into
// an h×w mask; they may run over its edges.
func RandomBlobs(rng *rand.Rand, h, w, n int) []byte {
	m := make([]byte, h*w)
	for i := 0; i < n; i++ {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		rx, ry := 1+rng.Float64()*float64(w)/4, 1+rng.Float64()*float64(h)/4
		in := Ellipse(cx, cy, rx, ry)
		if rng.Intn(3) == 0 {
			inner := Ellipse(cx, cy, rx/2, ry/2)
			outer := in
			in = func(x, y int) bool { return outer(x, y) && !inner(x, y) }
		}
		Paint(m, h, w, cx-rx, cy-ry, cx+rx, cy+ry, in)
	}
	return m
}

// Object draws one irregular object, the union of n overlapping ellipses
// of radius up to maxR around a random centre, the way an instance mask
// looks; a quarter of the objects get a hole.
func Object(rng *rand.Rand, m []byte, h, w, n int, maxR float64) {
	cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
	for i := 0; i < n; i++ {
		ex := cx + (rng.Float64()-0.5)*maxR
		ey := cy + (rng.Float64()-0.5)*maxR
		rx, ry := 2+rng.Float64()*maxR, 2+rng.Float64()*maxR
		Paint(m, h, w, ex-rx, ey-ry, ex+rx, ey+ry, Ellipse(ex, ey, rx, ry))
	}
	if rng.Intn(4) == 0 {
		r := 1 + maxR/4
		hole := Ellipse(cx, cy, r, r*0.7)
		for y := max(int(cy-r), 0); y < min(int(cy+r)+1, h); y++ {
			for x := max(int(cx-r), 0); x < min(int(cx+r)+1, w); x++ {
				if hole(x, y) {
					m[y*w+x] = 0
				}
			}
		}
	}
}

// Noise sets each pixel with probability p: single pixels, short lines
// and ragged shapes.
func Noise(rng *rand.Rand, h, w int, p float64) []byte {
	m := make([]byte, h*w)
	for i := range m {
		if rng.Float64() < p {
			m[i] = 1
		}
	}
	return m
}

// AddRLESeeds adds the seeds the COCO RLE fuzz targets share (h, w and the
// compressed string): the Ultralytics fixture's masks, masks of a real
// segmentation run, random blobs, and broken strings (overrun, short,
// unterminated, bad characters, too many groups, negative counts and
// sizes, over the size cap).
func AddRLESeeds(f *testing.F) {
	// The Ultralytics fixture's masks and masks of a real segmentation run.
	f.Add(96, 96, "PP9")
	f.Add(96, 96, "0PP9")
	f.Add(240, 320, "g[`1h0e65D=K5L3M3L3N2M2N3N10O100O1N2O1N2M3N2L4J:F8@?FTQe0")
	f.Add(240, 320, "aPS1P2]59H8I5J5K4M3L5L3M3M3L3N3M2N2N2N3M2O0O2N2N2O0O1O100O100O100O10O001O001O001O1O1O1O1O1O1N2O1N2N2N2N2N2M3N2L4K5E;L4M3L4N2N2N2O1O1N2O1O100O1O100O1O100O100O101O1N1O2O001O1N101N101N2N2O2M2M4L6I7G:Em_a0")
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 6; i++ {
		h, w := 1+rng.Intn(40), 1+rng.Intn(40)
		f.Add(h, w, mask.Encode(h, w, RandomBlobs(rng, h, w, 2)).String())
	}
	// Broken ones.
	f.Add(4, 4, "0PP9")
	f.Add(2, 2, "2")
	f.Add(2, 2, "4P")
	f.Add(2, 2, "4~")
	f.Add(96, 96, "PPPPPPPPPPPPP0")
	f.Add(2, 2, "000O")
	f.Add(-2, 2, "4")
	f.Add(1<<15, 1<<15, "0")
}
