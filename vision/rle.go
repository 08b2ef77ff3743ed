package vision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxMaskPixels caps the size (height × width) of a mask this package
// accepts, so that a hostile RLE cannot make it allocate without bound.
const MaxMaskPixels = 1 << 28

// ErrBadRLE is wrapped by every error about a malformed RLE.
var ErrBadRLE = errors.New("vision: bad RLE")

// RLE is a COCO run-length encoded binary mask: Counts alternate runs of 0s
// and 1s, starting with 0s, over the Height×Width pixels in column-major
// (Fortran) order, so pixel (x, y) is at index x·Height + y. The counts of a
// valid RLE sum to Height·Width.
type RLE struct {
	Height, Width int
	Counts        []uint32
}

// NewRLE validates counts (the uncompressed list form of COCO RLE) against
// the mask size.
func NewRLE(h, w int, counts []int64) (RLE, error) {
	if err := checkSize(h, w); err != nil {
		return RLE{}, err
	}
	r := RLE{Height: h, Width: w, Counts: make([]uint32, len(counts))}
	var sum int64
	for i, c := range counts {
		if err := checkCount(i, c, h, w); err != nil {
			return RLE{}, err
		}
		sum += c
		r.Counts[i] = uint32(c)
	}
	return r, checkSum(sum, h, w)
}

// ParseRLEString decodes the compressed string form of COCO RLE (as
// pycocotools' rleFrString does: 5-bit groups offset by 48, a continuation
// bit, a sign bit on the last group, counts from the fourth on stored as a
// difference to the count two before).
func ParseRLEString(h, w int, s string) (RLE, error) {
	if err := checkSize(h, w); err != nil {
		return RLE{}, err
	}
	total := int64(h) * int64(w)
	r := RLE{Height: h, Width: w, Counts: make([]uint32, 0, len(s)/2+1)}
	var sum int64
	for p := 0; p < len(s); {
		var x int64
		for k := 0; ; k++ {
			if p >= len(s) {
				return RLE{}, fmt.Errorf("%w: the string ends inside count %d", ErrBadRLE, len(r.Counts))
			}
			if k >= 13 {
				return RLE{}, fmt.Errorf("%w: count %d is too long", ErrBadRLE, len(r.Counts))
			}
			c := int64(s[p]) - 48
			if c < 0 || c > 63 {
				return RLE{}, fmt.Errorf("%w: character %q at %d is outside '0'..'o'", ErrBadRLE, s[p], p)
			}
			p++
			x |= (c & 0x1f) << (5 * k)
			if c&0x20 == 0 {
				if c&0x10 != 0 {
					x |= -1 << (5 * (k + 1))
				}
				break
			}
		}
		m := len(r.Counts)
		if m > 2 {
			x += int64(r.Counts[m-2])
		}
		if err := checkCount(m, x, h, w); err != nil {
			return RLE{}, err
		}
		sum += x
		if sum > total {
			return RLE{}, fmt.Errorf("%w: counts overrun the mask: they sum past %d pixels (%dx%d)", ErrBadRLE, total, h, w)
		}
		r.Counts = append(r.Counts, uint32(x))
	}
	return r, checkSum(sum, h, w)
}

func checkSize(h, w int) error {
	if h <= 0 || w <= 0 {
		return fmt.Errorf("%w: size %dx%d", ErrBadRLE, h, w)
	}
	if int64(h)*int64(w) > MaxMaskPixels {
		return fmt.Errorf("%w: size %dx%d is over the %d pixel limit", ErrBadRLE, h, w, MaxMaskPixels)
	}
	return nil
}

// checkCount checks one count of an h×w mask.
func checkCount(i int, c int64, h, w int) error {
	switch total := int64(h) * int64(w); {
	case c < 0:
		return fmt.Errorf("%w: count %d is negative (%d), outside 0..%d", ErrBadRLE, i, c, total)
	case c > total:
		return fmt.Errorf("%w: counts overrun the mask: count %d is %d, more than the %d pixels (%dx%d)", ErrBadRLE, i, c, total, h, w)
	}
	return nil
}

func checkSum(sum int64, h, w int) error {
	total := int64(h) * int64(w)
	switch {
	case sum > total:
		return fmt.Errorf("%w: counts overrun the mask: sum %d > %d pixels (%dx%d)", ErrBadRLE, sum, total, h, w)
	case sum < total:
		return fmt.Errorf("%w: counts cover %d of %d pixels (%dx%d)", ErrBadRLE, sum, total, h, w)
	}
	return nil
}

// String encodes the RLE in COCO's compressed string form (pycocotools'
// rleToString).
func (r RLE) String() string {
	var b []byte
	for i, c := range r.Counts {
		x := int64(c)
		if i > 2 {
			x -= int64(r.Counts[i-2])
		}
		for more := true; more; {
			ch := x & 0x1f
			x >>= 5
			if ch&0x10 != 0 {
				more = x != -1
			} else {
				more = x != 0
			}
			if more {
				ch |= 0x20
			}
			b = append(b, byte(ch+48))
		}
	}
	return string(b)
}

// segmentation is the JSON form of a COCO RLE.
type segmentation struct {
	Size   []int           `json:"size"`
	Counts json.RawMessage `json:"counts"`
}

// DecodeSegmentation decodes the "segmentation" value of a COCO result:
// {"size": [h, w], "counts": "<compressed>" or [n0, n1, …]}.
func DecodeSegmentation(raw json.RawMessage) (RLE, error) {
	var seg segmentation
	if err := json.Unmarshal(raw, &seg); err != nil {
		return RLE{}, fmt.Errorf("%w: %v", ErrBadRLE, err)
	}
	if len(seg.Size) != 2 {
		return RLE{}, fmt.Errorf("%w: size must be [height, width]", ErrBadRLE)
	}
	counts := bytes.TrimSpace(seg.Counts)
	switch {
	case len(counts) > 0 && counts[0] == '"':
		var s string
		if err := json.Unmarshal(counts, &s); err != nil {
			return RLE{}, fmt.Errorf("%w: %v", ErrBadRLE, err)
		}
		return ParseRLEString(seg.Size[0], seg.Size[1], s)
	case len(counts) > 0 && counts[0] == '[':
		if err := checkSize(seg.Size[0], seg.Size[1]); err != nil {
			return RLE{}, err
		}
		var list []int64
		if err := json.Unmarshal(counts, &list); err != nil {
			return RLE{}, fmt.Errorf("%w: %v", ErrBadRLE, err)
		}
		return NewRLE(seg.Size[0], seg.Size[1], list)
	}
	return RLE{}, fmt.Errorf("%w: counts must be a string or a list of integers", ErrBadRLE)
}

// EncodeMask run-length encodes a row-major h×w mask (any non-zero byte is
// foreground).
func EncodeMask(h, w int, mask []byte) RLE {
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
	return RLE{Height: h, Width: w, Counts: append(r.Counts, run)}
}

// Decode returns the mask as a row-major h×w slice of 0s and 1s.
func (r RLE) Decode() []byte {
	return r.Crop(Rect{0, 0, r.Width, r.Height})
}

// Rect is a pixel rectangle [X0, X1) × [Y0, Y1).
type Rect struct{ X0, Y0, X1, Y1 int }

// Empty reports whether the rectangle has no pixels.
func (b Rect) Empty() bool { return b.X1 <= b.X0 || b.Y1 <= b.Y0 }

// Bounds returns the smallest rectangle holding every foreground pixel,
// computed from the runs without decoding the mask; it is empty for an
// empty mask.
func (r RLE) Bounds() Rect {
	b := Rect{X0: r.Width, Y0: r.Height}
	h := int64(r.Height)
	var pos int64
	for i, c := range r.Counts {
		start, end := pos, pos+int64(c) // [start, end)
		pos = end
		if i%2 == 0 || c == 0 {
			continue
		}
		x0, x1 := int(start/h), int((end-1)/h)
		b.X0, b.X1 = min(b.X0, x0), max(b.X1, x1+1)
		if x0 == x1 {
			b.Y0, b.Y1 = min(b.Y0, int(start%h)), max(b.Y1, int((end-1)%h)+1)
		} else { // the run wraps a column: it covers the whole height
			b.Y0, b.Y1 = 0, r.Height
		}
	}
	if b.Empty() {
		return Rect{}
	}
	return b
}

// Crop returns the row-major mask of the pixels inside b (which must lie
// inside the mask).
func (r RLE) Crop(b Rect) []byte {
	cw, ch := b.X1-b.X0, b.Y1-b.Y0
	out := make([]byte, cw*ch)
	h := int64(r.Height)
	var pos int64
	for i, c := range r.Counts {
		start, end := pos, pos+int64(c)
		pos = end
		if i%2 == 0 || c == 0 {
			continue
		}
		// Walk the run column by column, clipped to the crop.
		for p := start; p < end; {
			x, y := int(p/h), int(p%h)
			colEnd := min(end, (int64(x)+1)*h) // end of this column segment
			if x >= b.X0 && x < b.X1 {
				y0, y1 := max(y, b.Y0), min(y+int(colEnd-p), b.Y1)
				for yy := y0; yy < y1; yy++ {
					out[(yy-b.Y0)*cw+(x-b.X0)] = 1
				}
			}
			p = colEnd
		}
	}
	return out
}
