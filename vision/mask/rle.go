package mask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxMaskPixels caps the size (height × width) of a mask this package
// accepts, so that a hostile RLE cannot make it allocate without bound.
const MaxMaskPixels = 1 << 28

// maxGroups is the most 5-bit groups one count of the compressed string
// form may use: 13 groups hold 65 bits, more than any int64.
const maxGroups = 13

// ErrBadRLE is wrapped by every error about a malformed RLE or mask.
var ErrBadRLE = errors.New("mask: bad RLE")

// RLE is a COCO run-length encoded binary mask: Counts alternate runs of 0s
// and 1s, starting with 0s, over the Height×Width pixels in column-major
// (Fortran) order, so pixel (x, y) is at index x·Height + y. The counts of a
// valid RLE sum to Height·Width; [NewRLE], [ParseRLEString] and
// [DecodeSegmentation] only return valid ones.
type RLE struct {
	Height, Width int
	Counts        []uint32
}

// NewRLE validates counts (the uncompressed list form of COCO RLE) against
// an h×w mask and returns the RLE.
func NewRLE(h, w int, counts []int64) (RLE, error) {
	if err := CheckSize(h, w); err != nil {
		return RLE{}, err
	}
	total := int64(h) * int64(w)
	r := RLE{Height: h, Width: w, Counts: make([]uint32, len(counts))}
	var sum int64
	for i, c := range counts {
		if err := checkCount(i, c, total); err != nil {
			return RLE{}, err
		}
		sum += c // cannot overflow: each c <= total <= MaxMaskPixels
		if sum > total {
			return RLE{}, overrun(sum, h, w)
		}
		r.Counts[i] = uint32(c)
	}
	if err := checkSum(sum, h, w); err != nil {
		return RLE{}, err
	}
	return r, nil
}

// ParseRLEString decodes the compressed string form of COCO RLE for an h×w
// mask, as pycocotools' rleFrString does: each count is a little-endian
// run of 5-bit groups stored as characters '0'+group, with 0x20 marking
// that another group follows and 0x10 of the last group being the sign;
// counts from the fourth on are stored as the difference to the count two
// before.
func ParseRLEString(h, w int, s string) (RLE, error) {
	if err := CheckSize(h, w); err != nil {
		return RLE{}, err
	}
	total := int64(h) * int64(w)
	// Each count takes at least one character; the sum check below stops
	// runs of zero counts at len(s), so this is the most ever allocated.
	r := RLE{Height: h, Width: w, Counts: make([]uint32, 0, min(len(s), 1024))}
	var sum int64
	for p := 0; p < len(s); {
		m := len(r.Counts)
		var x int64
		for k := 0; ; k++ {
			if p >= len(s) {
				return RLE{}, fmt.Errorf("%w: the string ends inside count %d", ErrBadRLE, m)
			}
			if k == maxGroups {
				return RLE{}, fmt.Errorf("%w: count %d has more than %d groups", ErrBadRLE, m, maxGroups)
			}
			c := int64(s[p]) - 48
			if c < 0 || c > 63 {
				return RLE{}, fmt.Errorf("%w: character %q at offset %d is outside '0'..'o'", ErrBadRLE, s[p:p+1], p)
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
		if m > 2 {
			x += int64(r.Counts[m-2])
		}
		if err := checkCount(m, x, total); err != nil {
			return RLE{}, err
		}
		sum += x
		if sum > total {
			return RLE{}, overrun(sum, h, w)
		}
		r.Counts = append(r.Counts, uint32(x))
	}
	if err := checkSum(sum, h, w); err != nil {
		return RLE{}, err
	}
	return r, nil
}

// Validate reports whether r is a well-formed RLE: a size within
// [MaxMaskPixels] and counts that sum to exactly Height·Width.
func (r RLE) Validate() error {
	if err := CheckSize(r.Height, r.Width); err != nil {
		return err
	}
	var sum int64
	for _, c := range r.Counts {
		sum += int64(c)
	}
	return checkSum(sum, r.Height, r.Width)
}

// String encodes the RLE in COCO's compressed string form, as pycocotools'
// rleToString does.
func (r RLE) String() string {
	b := make([]byte, 0, 2*len(r.Counts))
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

// CheckSize reports whether h×w is a mask size the package accepts:
// positive, and at most [MaxMaskPixels] pixels. Its errors wrap
// [ErrBadRLE].
func CheckSize(h, w int) error { return checkSize64(int64(h), int64(w)) }

func checkSize64(h, w int64) error {
	switch {
	case h <= 0 || w <= 0:
		return fmt.Errorf("%w: size %dx%d: height and width must be positive", ErrBadRLE, h, w)
	case h > MaxMaskPixels || w > MaxMaskPixels || h*w > MaxMaskPixels:
		return fmt.Errorf("%w: size %dx%d is over the limit of %d pixels", ErrBadRLE, h, w, MaxMaskPixels)
	}
	return nil
}

// checkCount checks count i of a mask of total pixels.
func checkCount(i int, c, total int64) error {
	switch {
	case c < 0:
		return fmt.Errorf("%w: count %d is negative (%d)", ErrBadRLE, i, c)
	case c > total:
		return fmt.Errorf("%w: counts overrun the mask: count %d is %d > h*w %d", ErrBadRLE, i, c, total)
	}
	return nil
}

func overrun(sum int64, h, w int) error {
	return fmt.Errorf("%w: counts overrun the mask: sum %d > h*w %d (%dx%d)", ErrBadRLE, sum, int64(h)*int64(w), h, w)
}

func checkSum(sum int64, h, w int) error {
	total := int64(h) * int64(w)
	switch {
	case sum > total:
		return overrun(sum, h, w)
	case sum < total:
		return fmt.Errorf("%w: counts fall short of the mask: sum %d < h*w %d (%dx%d)", ErrBadRLE, sum, total, h, w)
	}
	return nil
}

// segmentation is the JSON form of a COCO RLE.
type segmentation struct {
	Size   []int64         `json:"size"`
	Counts json.RawMessage `json:"counts"`
}

// DecodeSegmentation decodes the "segmentation" value of a COCO result
// (Ultralytics' predictions.json): {"size": [h, w], "counts": "<compressed
// string>"} or {"size": [h, w], "counts": [n0, n1, …]}. Polygon
// segmentations (lists of coordinates) are not RLE and give an error.
func DecodeSegmentation(raw json.RawMessage) (RLE, error) {
	var seg segmentation
	if err := json.Unmarshal(raw, &seg); err != nil {
		return RLE{}, fmt.Errorf("%w: segmentation is not an RLE object: %v", ErrBadRLE, err)
	}
	if len(seg.Size) != 2 {
		return RLE{}, fmt.Errorf("%w: size has %d values, want [height, width]", ErrBadRLE, len(seg.Size))
	}
	if err := checkSize64(seg.Size[0], seg.Size[1]); err != nil {
		return RLE{}, err
	}
	h, w := int(seg.Size[0]), int(seg.Size[1])
	counts := bytes.TrimSpace(seg.Counts)
	switch {
	case len(counts) > 0 && counts[0] == '"':
		var s string
		if err := json.Unmarshal(counts, &s); err != nil {
			return RLE{}, fmt.Errorf("%w: counts: %v", ErrBadRLE, err)
		}
		return ParseRLEString(h, w, s)
	case len(counts) > 0 && counts[0] == '[':
		var list []int64
		if err := json.Unmarshal(counts, &list); err != nil {
			return RLE{}, fmt.Errorf("%w: counts: %v", ErrBadRLE, err)
		}
		return NewRLE(h, w, list)
	case len(counts) == 0:
		return RLE{}, fmt.Errorf("%w: counts are missing", ErrBadRLE)
	}
	return RLE{}, fmt.Errorf("%w: counts must be a string or a list of integers", ErrBadRLE)
}
