package mask_test

import (
	"encoding/json"
	"errors"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

func TestParseRLEString_Known(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h, w   int
		s      string
		counts []uint32
	}{
		// From the Ultralytics 8.3.166 segment fixture's predictions.json:
		// 9216 = 9·32² + 0·32 + 0, written low group first with 0x20 on
		// all but the last group: 'P' (48+32), 'P', '9' (48+9).
		{"AllZeros96", 96, 96, "PP9", []uint32{9216}},
		{"AllOnes96", 96, 96, "0PP9", []uint32{0, 9216}},
		{"Small", 2, 2, "121", []uint32{1, 2, 1}},
		// The fourth count on is a delta to the count two before:
		// 4-2 = 2 is written '2'.
		{"Delta", 3, 3, "0232", []uint32{0, 2, 3, 4}},
		// A negative delta, 1-2 = -1: the group 0x1f with the sign bit
		// set and no continuation, 'O' (48+31).
		{"NegativeDelta", 3, 3, "421O0", []uint32{4, 2, 1, 1, 1}},
		// 13 groups, the most a count may have.
		{"ThirteenGroups", 96, 96, "PPPPPPPPPPPP0PP9", []uint32{0, 9216}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := mask.ParseRLEString(tc.h, tc.w, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Counts, tc.counts) {
				t.Errorf("got counts %v, want %v", r.Counts, tc.counts)
			}
			if got := mask.Encode(tc.h, tc.w, r.Decode()); !reflect.DeepEqual(got, r) {
				t.Errorf("decode and encode gives %v, want %v", got, r)
			}
			if tc.name != "ThirteenGroups" && r.String() != tc.s {
				t.Errorf("String() = %q, want %q", r.String(), tc.s)
			}
		})
	}
	zeros, _ := mask.ParseRLEString(96, 96, "PP9")
	ones, _ := mask.ParseRLEString(96, 96, "0PP9")
	for i, v := range zeros.Decode() {
		if v != 0 || ones.Decode()[i] != 1 {
			t.Fatalf("pixel %d: PP9 gives %d, 0PP9 gives %d; want 0 and 1", i, v, ones.Decode()[i])
		}
	}
}

func TestParseRLEString_Bad(t *testing.T) {
	for _, tc := range []struct {
		name string
		h, w int
		s    string
		want string
	}{
		{"CountOverrunsMask", 4, 4, "0PP9", "counts overrun the mask: count 1 is 9216 > h*w 16"},
		{"SumOverrunsMask", 2, 2, "23", "counts overrun the mask: sum 5 > h*w 4"},
		{"SumOverrunsLater", 2, 2, "1111", "counts overrun the mask: sum 5 > h*w 4"},
		{"FallsShort", 2, 2, "2", "counts fall short of the mask: sum 2 < h*w 4"},
		{"Empty", 2, 2, "", "sum 0 < h*w 4"},
		{"NegativeFirst", 2, 2, "O", "count 0 is negative (-1)"},
		{"NegativeAfterDelta", 2, 2, "000O", "count 3 is negative (-1)"},
		{"HugeCount", 2, 2, "oooooooooooo?", "count 0"},
		{"FourteenGroups", 96, 96, "PPPPPPPPPPPPP0", "count 0 has more than 13 groups"},
		{"Unterminated", 2, 2, "4P", "the string ends inside count 1"},
		{"CharAboveRange", 2, 2, "4p", `character "p" at offset 1 is outside '0'..'o'`},
		{"CharBelowRange", 2, 2, "/", `character "/" at offset 0`},
		{"NUL", 2, 2, "1\x003", `character "\x00" at offset 1`},
		{"NonASCII", 2, 2, "1é", `character "\xc3" at offset 1`},
		{"ZeroHeight", 0, 5, "", "size 0x5: height and width must be positive"},
		{"NegativeWidth", 5, -1, "5", "size 5x-1"},
		{"OverCap", 1 << 14, 1<<14 + 1, "0", "is over the limit of 268435456 pixels"},
		{"HugeBoth", 1 << 40, 1 << 40, "0", "is over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := mask.ParseRLEString(tc.h, tc.w, tc.s)
			if !errors.Is(err, mask.ErrBadRLE) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want ErrBadRLE saying %q", r, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "mask: bad RLE: ") {
				t.Errorf("got %q, want the mask: bad RLE prefix", err)
			}
		})
	}
}

func TestParseRLEString_AtCap(t *testing.T) {
	// The largest mask accepted: 2^28 zeros, and the same in one column.
	want := mask.RLE{Height: 1 << 14, Width: 1 << 14, Counts: []uint32{mask.MaxMaskPixels}}
	for _, r := range []mask.RLE{want, {Height: mask.MaxMaskPixels, Width: 1, Counts: want.Counts}} {
		got, err := mask.ParseRLEString(r.Height, r.Width, r.String())
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("got %v, %v; want %v", got, err, r)
		}
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if b := r.Bounds(); !b.Empty() {
			t.Errorf("empty mask has bounds %v", b)
		}
	}
}

func TestNewRLE(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h, w   int
		counts []int64
		want   string // "" for success
	}{
		{"Valid", 2, 3, []int64{1, 2, 3}, ""},
		{"ZerosInside", 2, 3, []int64{0, 2, 0, 0, 4}, ""},
		{"CountOverrunsMask", 2, 3, []int64{1, 1 << 40}, "counts overrun the mask: count 1 is 1099511627776 > h*w 6"},
		{"SumOverrunsMask", 2, 3, []int64{1, 2, 4}, "counts overrun the mask: sum 7 > h*w 6"},
		{"FallsShort", 2, 3, []int64{1, 2}, "counts fall short of the mask: sum 3 < h*w 6"},
		{"Negative", 2, 3, []int64{1, -2, 7}, "count 1 is negative (-2)"},
		{"NoCounts", 2, 3, nil, "sum 0 < h*w 6"},
		{"ZeroSize", 0, 0, nil, "size 0x0"},
		{"OverCap", 1 << 20, 1 << 20, []int64{1 << 40}, "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := mask.NewRLE(tc.h, tc.w, tc.counts)
			if tc.want == "" {
				if err != nil || len(r.Counts) != len(tc.counts) || r.Validate() != nil {
					t.Fatalf("got %v, %v; want a valid RLE", r, err)
				}
				return
			}
			if !errors.Is(err, mask.ErrBadRLE) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want ErrBadRLE saying %q", r, err, tc.want)
			}
		})
	}
}

func TestDecodeSegmentation(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		counts     []uint32
		want       string // error text, "" for success
	}{
		{"String", `{"size":[96,96],"counts":"0PP9"}`, []uint32{0, 9216}, ""},
		{"List", `{"size":[2,3],"counts":[1,2,3]}`, []uint32{1, 2, 3}, ""},
		{"Spaces", ` { "counts" : [ 6 ] , "size" : [ 2 , 3 ] } `, []uint32{6}, ""},
		{"ListOverrun", `{"size":[2,3],"counts":[1,2,4]}`, nil, "counts overrun the mask: sum 7 > h*w 6"},
		{"StringOverrun", `{"size":[4,4],"counts":"0PP9"}`, nil, "counts overrun the mask"},
		{"ListShort", `{"size":[2,3],"counts":[1,2]}`, nil, "sum 3 < h*w 6"},
		{"ListNegative", `{"size":[2,3],"counts":[1,-2,7]}`, nil, "count 1 is negative"},
		{"ListFloat", `{"size":[2,3],"counts":[1.5,4.5]}`, nil, "counts:"},
		{"ListTooBig", `{"size":[2,3],"counts":[1e30]}`, nil, "counts:"},
		{"NoSize", `{"counts":"PP9"}`, nil, "size has 0 values"},
		{"ThreeSizes", `{"size":[1,2,3],"counts":"PP9"}`, nil, "size has 3 values"},
		{"ZeroSize", `{"size":[0,5],"counts":""}`, nil, "size 0x5"},
		{"NegativeSize", `{"size":[-1,5],"counts":"5"}`, nil, "size -1x5"},
		{"Huge", `{"size":[100000,100000],"counts":"0"}`, nil, "over the limit"},
		{"HugerThanInt", `{"size":[1e300,1],"counts":"0"}`, nil, "not an RLE object"},
		{"NoCounts", `{"size":[2,2]}`, nil, "counts are missing"},
		{"NullCounts", `{"size":[2,2],"counts":null}`, nil, "string or a list"},
		{"CountsObject", `{"size":[2,2],"counts":{}}`, nil, "string or a list"},
		{"BadEscape", `{"size":[2,2],"counts":"\x"}`, nil, "not an RLE object"},
		{"Polygon", `[[10,10,20,10,20,20]]`, nil, "not an RLE object"},
		{"NotJSON", `{"size":`, nil, "not an RLE object"},
		{"BadChar", `{"size":[2,2],"counts":"4~"}`, nil, "outside '0'..'o'"},
		{"Unterminated", `{"size":[2,2],"counts":"4P"}`, nil, "ends inside"},
		{"TooManyGroups", `{"size":[2,2],"counts":"ooooooooooooooooo"}`, nil, "more than 13 groups"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := mask.DecodeSegmentation(json.RawMessage(tc.json))
			if tc.want == "" {
				if err != nil || !reflect.DeepEqual(r.Counts, tc.counts) {
					t.Fatalf("got %v, %v; want %v", r.Counts, err, tc.counts)
				}
				return
			}
			if !errors.Is(err, mask.ErrBadRLE) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want ErrBadRLE saying %q", err, tc.want)
			}
		})
	}
}

func TestRLE_Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    mask.RLE
		want string
	}{
		{"Valid", mask.RLE{Height: 2, Width: 2, Counts: []uint32{1, 3}}, ""},
		{"Zero", mask.RLE{}, "size 0x0"},
		{"Short", mask.RLE{Height: 2, Width: 2, Counts: []uint32{1, 2}}, "sum 3 < h*w 4"},
		{"Long", mask.RLE{Height: 2, Width: 2, Counts: []uint32{1, 4}}, "counts overrun the mask: sum 5 > h*w 4"},
		{"Big", mask.RLE{Height: 1 << 15, Width: 1 << 15}, "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (!errors.Is(err, mask.ErrBadRLE) || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRLE_Bounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    mask.RLE
		want mask.Rect
	}{
		{"Empty", mask.RLE{Height: 3, Width: 4, Counts: []uint32{12}}, mask.Rect{}},
		{"Full", mask.RLE{Height: 3, Width: 4, Counts: []uint32{0, 12}}, mask.Rect{0, 0, 4, 3}},
		{"OnePixel", mask.RLE{Height: 3, Width: 4, Counts: []uint32{7, 1, 4}}, mask.Rect{2, 1, 3, 2}},
		{"InOneColumn", mask.RLE{Height: 5, Width: 4, Counts: []uint32{6, 3, 11}}, mask.Rect{1, 1, 2, 4}},
		// A run from the bottom of column 1 to the top of column 2
		// touches every row.
		{"AcrossColumns", mask.RLE{Height: 5, Width: 4, Counts: []uint32{9, 2, 9}}, mask.Rect{1, 0, 3, 5}},
		{"TwoRuns", mask.RLE{Height: 5, Width: 4, Counts: []uint32{1, 1, 13, 1, 4}}, mask.Rect{0, 0, 4, 2}},
		// Invalid RLEs must not panic: the runs are clipped to the mask.
		{"Overrun", mask.RLE{Height: 2, Width: 2, Counts: []uint32{3, 100}}, mask.Rect{1, 1, 2, 2}},
		{"ZeroHeight", mask.RLE{Width: 2, Counts: []uint32{0, 5}}, mask.Rect{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Bounds(); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if tc.r.Height > 0 && tc.r.Width > 0 {
				if got, want := tc.r.Crop(tc.want), cropOf(tc.r.Decode(), tc.r.Width, tc.want); !reflect.DeepEqual(got, want) {
					t.Errorf("crop %v, want %v", got, want)
				}
			}
		})
	}
}

func TestRLE_CropClips(t *testing.T) {
	r := mask.RLE{Height: 2, Width: 3, Counts: []uint32{0, 6}}
	if got := r.Crop(mask.Rect{-5, -5, 2, 100}); !reflect.DeepEqual(got, []byte{1, 1, 1, 1}) {
		t.Errorf("got %v, want the 2x2 top-left corner", got)
	}
	if got := r.Crop(mask.Rect{5, 5, 9, 9}); len(got) != 0 {
		t.Errorf("got %v, want nothing outside the mask", got)
	}
}

func TestEncodeMask_Bad(t *testing.T) {
	for _, tc := range []struct {
		name string
		h, w int
		mask []byte
	}{
		{"Short", 2, 2, []byte{1, 0, 1}},
		{"Long", 1, 1, []byte{1, 0}},
		{"ZeroSize", 0, 0, nil},
		{"Negative", -1, -1, []byte{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mask.Encode(tc.h, tc.w, tc.mask)
			if r.Validate() == nil {
				t.Errorf("got valid %v", r)
			}
		})
	}
}

// TestRLE_RoundTrip encodes random masks, converts to the string form and
// back, and decodes: every step must preserve the mask.
func TestRLE_RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 300; i++ {
		h, w := 1+rng.Intn(60), 1+rng.Intn(60)
		var m []byte
		if i%2 == 0 {
			m = masktest.RandomBlobs(rng, h, w, 1+rng.Intn(3))
		} else {
			m = masktest.Noise(rng, h, w, rng.Float64())
		}
		r := mask.Encode(h, w, m)
		s := r.String()
		back, err := mask.ParseRLEString(h, w, s)
		if err != nil {
			t.Fatalf("mask %d: parse %q: %v", i, s, err)
		}
		if !reflect.DeepEqual(back.Counts, r.Counts) {
			t.Fatalf("mask %d: got counts %v, want %v", i, back.Counts, r.Counts)
		}
		if got := back.Decode(); !reflect.DeepEqual(got, m) {
			t.Fatalf("mask %d: decode differs", i)
		}
		b := back.Bounds()
		if want := boundsOf(h, w, m); b != want {
			t.Fatalf("mask %d: got bounds %v, want %v", i, b, want)
		}
		if got, want := back.Crop(b), cropOf(m, w, b); !reflect.DeepEqual(got, want) {
			t.Fatalf("mask %d: crop differs", i)
		}
	}
}

// boundsOf is the bounding box of a row-major mask's non-zero pixels.
func boundsOf(h, w int, m []byte) mask.Rect {
	b := mask.Rect{X0: w, Y0: h}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if m[y*w+x] != 0 {
				b.X0, b.Y0, b.X1, b.Y1 = min(b.X0, x), min(b.Y0, y), max(b.X1, x+1), max(b.Y1, y+1)
			}
		}
	}
	if b.Empty() {
		return mask.Rect{}
	}
	return b
}

// cropOf cuts b out of a row-major mask of width w.
func cropOf(m []byte, w int, b mask.Rect) []byte {
	out := make([]byte, 0, b.Dx()*b.Dy())
	for y := b.Y0; y < b.Y1; y++ {
		out = append(out, m[y*w+b.X0:y*w+b.X1]...)
	}
	return out
}
