package mask_test

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

// A faithful port of the pycocotools functions the package must agree
// with (cocoapi common/maskApi.c), keeping C's types: siz is size_t, uint
// is 32 bits, long is 64 bits (LP64), char is signed and int is 32 bits.
// Masks here are column-major, as pycocotools hands them to C.

// cocoEncode is rleEncode for one h×w column-major mask.
func cocoEncode(M []byte, h, w int) []uint32 {
	a := h * w
	cnts := make([]uint32, a+1)
	k, p, c := 0, byte(0), uint32(0)
	for j := 0; j < a; j++ {
		if M[j] != p {
			cnts[k] = c
			k++
			c = 0
			p = M[j]
		}
		c++
	}
	cnts[k] = c
	k++
	return cnts[:k]
}

// cocoDecode is rleDecode for one RLE: a column-major mask.
func cocoDecode(cnts []uint32, h, w int) []byte {
	M := make([]byte, 0, h*w)
	v := byte(0)
	for j := range cnts {
		for k := uint32(0); k < cnts[j]; k++ {
			M = append(M, v)
		}
		v = 1 - v
	}
	return M
}

// cocoToString is rleToString.
func cocoToString(cnts []uint32) string {
	var s []byte
	for i := range cnts {
		x := int64(cnts[i])
		if i > 2 {
			x -= int64(cnts[i-2])
		}
		more := true
		for more {
			c := int8(x & 0x1f)
			x >>= 5
			if c&0x10 != 0 {
				more = x != -1
			} else {
				more = x != 0
			}
			if more {
				c |= 0x20
			}
			c += 48
			s = append(s, byte(c))
		}
	}
	return string(s)
}

// cocoFrString is rleFrString. ok is false where the C code is not well
// defined: a count of more than 6 groups shifts a 32-bit int by 35 or
// more. (Masks of at most 2^28 pixels never need more than 6.)
func cocoFrString(s string) (cnts []uint32, ok bool) {
	p := 0
	for p < len(s) {
		x, k, more := int64(0), 0, true
		for more {
			if p >= len(s) {
				return nil, false // C would read the terminating NUL as a group
			}
			if k > 6 {
				return nil, false
			}
			c := int8(s[p] - 48)
			x |= int64(int32(c&0x1f) << (5 * k))
			more = c&0x20 != 0
			p++
			k++
			if !more && c&0x10 != 0 {
				x |= int64(int32(-1) << (5 * k))
			}
		}
		m := len(cnts)
		if m > 2 {
			x += int64(cnts[m-2])
		}
		cnts = append(cnts, uint32(x))
	}
	return cnts, true
}

// cocoToBbox is rleToBbox: [x, y, width, height].
func cocoToBbox(cnts []uint32, hh, ww int) [4]uint32 {
	h, w := uint32(hh), uint32(ww)
	m := len(cnts) / 2 * 2
	xs, ys, xe, ye, cc := w, h, uint32(0), uint32(0), uint32(0)
	var xp uint32
	if m == 0 {
		return [4]uint32{}
	}
	for j := 0; j < m; j++ {
		cc += cnts[j]
		t := cc - uint32(j%2)
		y := t % h
		x := (t - y) / h
		if j%2 == 0 {
			xp = x
		} else if xp < x {
			ys, ye = 0, h-1
		}
		xs, xe, ys, ye = min(xs, x), max(xe, x), min(ys, y), max(ye, y)
	}
	return [4]uint32{xs, ys, xe - xs + 1, ye - ys + 1}
}

// transpose turns a row-major h×w mask into pycocotools' column-major one.
func transpose(m []byte, h, w int) []byte {
	out := make([]byte, len(m))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if m[y*w+x] != 0 {
				out[x*h+y] = 1
			}
		}
	}
	return out
}

// TestCOCO_Masks checks the package against the pycocotools port on
// random masks: encode, string form both ways, decode and bounding box.
func TestCOCO_Masks(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for i := 0; i < 400; i++ {
		h, w := 1+rng.Intn(80), 1+rng.Intn(80)
		var m []byte
		switch i % 3 {
		case 0:
			m = masktest.RandomBlobs(rng, h, w, 1+rng.Intn(3))
		case 1:
			m = masktest.Noise(rng, h, w, rng.Float64())
		default:
			m = make([]byte, h*w)
			masktest.Object(rng, m, h, w, 1+rng.Intn(3), 1+rng.Float64()*float64(min(h, w))/3)
		}
		col := transpose(m, h, w)
		r := mask.Encode(h, w, m)
		want := cocoEncode(col, h, w)
		if !reflect.DeepEqual(r.Counts, want) {
			t.Fatalf("mask %d: Encode %v, rleEncode %v", i, r.Counts, want)
		}
		s := r.String()
		if cs := cocoToString(want); s != cs {
			t.Fatalf("mask %d: String %q, rleToString %q", i, s, cs)
		}
		back, err := mask.ParseRLEString(h, w, s)
		if err != nil {
			t.Fatalf("mask %d: %v", i, err)
		}
		if cc, ok := cocoFrString(s); !ok || !reflect.DeepEqual(back.Counts, cc) {
			t.Fatalf("mask %d: ParseRLEString %v, rleFrString %v", i, back.Counts, cc)
		}
		if got := transpose(back.Decode(), h, w); !reflect.DeepEqual(got, cocoDecode(want, h, w)) {
			t.Fatalf("mask %d: Decode differs from rleDecode", i)
		}
		b, bb := back.Bounds(), cocoToBbox(want, h, w)
		if gotBB := [4]uint32{uint32(b.X0), uint32(b.Y0), uint32(b.Dx()), uint32(b.Dy())}; !b.Empty() && gotBB != bb {
			t.Fatalf("mask %d: Bounds %v (%v), rleToBbox %v", i, b, gotBB, bb)
		}
	}
}

// TestCOCO_Counts checks the string codec against the port on random
// count sequences with large runs and large positive and negative deltas,
// as big masks have.
func TestCOCO_Counts(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	for i := 0; i < 2000; i++ {
		n := 1 + rng.Intn(12)
		counts := make([]int64, n)
		var sum int64
		for j := range counts {
			switch rng.Intn(4) {
			case 0:
				counts[j] = int64(rng.Intn(3))
			case 1:
				counts[j] = int64(rng.Intn(100))
			default:
				counts[j] = int64(rng.Intn(mask.MaxMaskPixels / 16))
			}
			sum += counts[j]
		}
		// Any h×w with h·w = sum is a valid size; use a column.
		if sum == 0 {
			counts = append(counts, 1)
			sum = 1
		}
		r, err := mask.NewRLE(int(sum), 1, counts)
		if err != nil {
			t.Fatalf("%v: %v", counts, err)
		}
		s := r.String()
		if cs := cocoToString(r.Counts); s != cs {
			t.Fatalf("%v: String %q, rleToString %q", counts, s, cs)
		}
		back, err := mask.ParseRLEString(int(sum), 1, s)
		if err != nil || !reflect.DeepEqual(back.Counts, r.Counts) {
			t.Fatalf("%v: %q parses to %v, %v", counts, s, back.Counts, err)
		}
		if cc, ok := cocoFrString(s); !ok || !reflect.DeepEqual(cc, r.Counts) {
			t.Fatalf("%v: rleFrString(%q) = %v", counts, s, cc)
		}
	}
}
