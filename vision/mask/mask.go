package mask

import "encoding/binary"

// Rect is a pixel rectangle [X0, X1) × [Y0, Y1).
type Rect struct{ X0, Y0, X1, Y1 int }

// Empty reports whether the rectangle has no pixels.
func (b Rect) Empty() bool { return b.X1 <= b.X0 || b.Y1 <= b.Y0 }

// Dx returns the rectangle's width.
func (b Rect) Dx() int { return max(b.X1-b.X0, 0) }

// Dy returns the rectangle's height.
func (b Rect) Dy() int { return max(b.Y1-b.Y0, 0) }

// intersect returns the part of b inside a w×h image.
func (b Rect) intersect(w, h int) Rect {
	c := Rect{max(b.X0, 0), max(b.Y0, 0), min(b.X1, w), min(b.Y1, h)}
	if c.Empty() {
		return Rect{}
	}
	return c
}

// Encode run-length encodes a row-major h×w mask (any non-zero byte is
// foreground), as pycocotools' encode does for the column-major mask. If
// h or w is not positive or mask does not hold h·w bytes it returns the
// zero RLE, which [RLE.Validate] rejects.
func Encode(h, w int, mask []byte) RLE {
	if h <= 0 || w <= 0 || int64(len(mask)) != int64(h)*int64(w) {
		return RLE{}
	}
	r := RLE{Height: h, Width: w}
	var run uint32
	var cur byte
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			v := byte(0)
			if mask[y*w+x] != 0 {
				v = 1
			}
			if v != cur {
				r.Counts = append(r.Counts, run)
				run, cur = 0, v
			}
			run++
		}
	}
	r.Counts = append(r.Counts, run)
	return r
}

// runs calls f with the column-major pixel range [start, end) of each run
// of 1s, clipped to the Height·Width pixels of the mask.
func (r RLE) runs(f func(start, end int64)) {
	total := int64(max(r.Height, 0)) * int64(max(r.Width, 0))
	var pos int64
	for i, c := range r.Counts {
		start, end := pos, min(pos+int64(c), total)
		pos = end
		if i%2 == 1 && end > start {
			f(start, end)
		}
	}
}

// Bounds returns the smallest rectangle holding every foreground pixel,
// computed from the runs without decoding the mask; it is the empty
// Rect{} for a mask with no foreground.
func (r RLE) Bounds() Rect {
	b := Rect{X0: r.Width, Y0: r.Height}
	h := int64(r.Height)
	r.runs(func(start, end int64) {
		x0, x1 := int(start/h), int((end-1)/h)
		b.X0, b.X1 = min(b.X0, x0), max(b.X1, x1+1)
		if x0 == x1 {
			b.Y0, b.Y1 = min(b.Y0, int(start%h)), max(b.Y1, int((end-1)%h)+1)
		} else { // the run crosses into the next column: all rows are hit
			b.Y0, b.Y1 = 0, r.Height
		}
	})
	if b.Empty() {
		return Rect{}
	}
	return b
}

// Decode returns the mask as a row-major Height×Width slice of 0s and 1s.
// It allocates Height·Width bytes: check the RLE first ([RLE.Validate]) if
// it was not made by this package.
func (r RLE) Decode() []byte {
	return r.Crop(Rect{0, 0, r.Width, r.Height})
}

// Crop returns the row-major mask (0s and 1s) of the pixels inside b,
// clipped to the mask, without decoding the rest of the mask: b.Dy() rows
// of b.Dx() bytes.
func (r RLE) Crop(b Rect) []byte {
	b = b.intersect(r.Width, r.Height)
	out := make([]byte, b.Dx()*b.Dy())
	r.CropInto(b, out)
	return out
}

// CropInto is [RLE.Crop] into a buffer: it writes the row-major crop b,
// which must lie inside the mask (as [RLE.Bounds] does), into out, which
// must hold b.Dx()·b.Dy() zeroed bytes.
//
// Runs are column-major, and writing them pixel by pixel into a row-major
// buffer is slow (one strided write per pixel). Instead each column
// segment of a run toggles the pixel where it starts and the one just
// below where it ends; a prefix XOR down every column, done a row at a
// time eight bytes at once, then fills the runs in. Touching segments of
// one column (zero-length runs of 0s) toggle their shared pixel twice and
// so merge, as they should.
func (r RLE) CropInto(b Rect, out []byte) {
	cw, ch := int64(b.Dx()), int64(b.Dy())
	h := int64(r.Height)
	x0, x1, y0, y1 := int64(b.X0), int64(b.X1), int64(b.Y0), int64(b.Y1)
	r.runs(func(start, end int64) {
		for p := start; p < end; { // one column segment at a time
			x, y := p/h, p%h
			colEnd := min(end, (x+1)*h)
			if x >= x1 {
				return
			}
			lo, hi := max(y, y0), min(y+colEnd-p, y1)
			if x >= x0 && lo < hi {
				out[(lo-y0)*cw+x-x0] ^= 1
				if hi < y1 {
					out[(hi-y0)*cw+x-x0] ^= 1
				}
			}
			p = colEnd
		}
	})
	for y := int64(1); y < ch; y++ {
		xorInto(out[y*cw:(y+1)*cw], out[(y-1)*cw:y*cw])
	}
}

// xorInto sets dst[i] ^= src[i], eight bytes at a time.
func xorInto(dst, src []byte) {
	src = src[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(dst[i:])^binary.LittleEndian.Uint64(src[i:]))
	}
	for ; i < len(dst); i++ {
		dst[i] ^= src[i]
	}
}
