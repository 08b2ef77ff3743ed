package vision_test

import (
	"encoding/json"
	"errors"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
)

func TestParseRLEString_Known(t *testing.T) {
	// From the Ultralytics 8.3.166 segment fixture's predictions.json.
	r, err := vision.ParseRLEString(96, 96, "PP9")
	if err != nil || !reflect.DeepEqual(r.Counts, []uint32{9216}) {
		t.Errorf("PP9 = %v, %v; want all 9216 pixels zero", r.Counts, err)
	}
	r, err = vision.ParseRLEString(96, 96, "0PP9")
	if err != nil || !reflect.DeepEqual(r.Counts, []uint32{0, 9216}) {
		t.Errorf("0PP9 = %v, %v; want all 9216 pixels one", r.Counts, err)
	}
	if r.String() != "0PP9" {
		t.Errorf("String() = %q, want 0PP9", r.String())
	}
}

// TestRLE_RoundTrip encodes random masks, converts to the string form and
// back, and decodes: every step must preserve the mask.
func TestRLE_RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 300; i++ {
		h, w := 1+rng.Intn(60), 1+rng.Intn(60)
		var mask []byte
		if i%2 == 0 {
			mask = randomBlobs(rng, h, w, 1+rng.Intn(3))
		} else {
			mask = noise(rng, h, w, rng.Float64())
		}
		r := vision.EncodeMask(h, w, mask)
		s := r.String()
		back, err := vision.ParseRLEString(h, w, s)
		if err != nil {
			t.Fatalf("mask %d: parse %q: %v", i, s, err)
		}
		if !reflect.DeepEqual(back.Counts, r.Counts) {
			t.Fatalf("mask %d: counts %v, want %v", i, back.Counts, r.Counts)
		}
		if got := back.Decode(); !reflect.DeepEqual(got, mask) {
			t.Fatalf("mask %d: decode differs", i)
		}
		b := back.Bounds()
		if want := boundsOf(h, w, mask); b != want {
			t.Fatalf("mask %d: bounds %v, want %v", i, b, want)
		}
		if !b.Empty() {
			crop := back.Crop(b)
			for y := b.Y0; y < b.Y1; y++ {
				for x := b.X0; x < b.X1; x++ {
					if crop[(y-b.Y0)*(b.X1-b.X0)+x-b.X0] != mask[y*w+x] {
						t.Fatalf("mask %d: crop differs at %d,%d", i, x, y)
					}
				}
			}
		}
	}
}

func boundsOf(h, w int, mask []byte) vision.Rect {
	b := vision.Rect{X0: w, Y0: h}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if mask[y*w+x] != 0 {
				b.X0, b.Y0, b.X1, b.Y1 = min(b.X0, x), min(b.Y0, y), max(b.X1, x+1), max(b.Y1, y+1)
			}
		}
	}
	if b.Empty() {
		return vision.Rect{}
	}
	return b
}

func TestDecodeSegmentation(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		counts     []uint32
		err        string
	}{
		{"String", `{"size":[96,96],"counts":"0PP9"}`, []uint32{0, 9216}, ""},
		{"List", `{"size":[2,3],"counts":[1,2,3]}`, []uint32{1, 2, 3}, ""},
		{"ListOverrun", `{"size":[2,3],"counts":[1,2,4]}`, nil, "overrun"},
		{"ListShort", `{"size":[2,3],"counts":[1,2]}`, nil, "cover 3 of 6"},
		{"ListNegative", `{"size":[2,3],"counts":[1,-2,7]}`, nil, "outside"},
		{"StringOverrun", `{"size":[4,4],"counts":"0PP9"}`, nil, "overrun"},
		{"NoSize", `{"counts":"PP9"}`, nil, "size"},
		{"ZeroSize", `{"size":[0,5],"counts":""}`, nil, "size 0x5"},
		{"Huge", `{"size":[100000,100000],"counts":"0"}`, nil, "limit"},
		{"CountsObject", `{"size":[2,2],"counts":{}}`, nil, "string or a list"},
		{"NotJSON", `{"size":`, nil, "bad RLE"},
		{"BadChar", `{"size":[2,2],"counts":"4~"}`, nil, "outside '0'..'o'"},
		{"Unterminated", `{"size":[2,2],"counts":"4P"}`, nil, "ends inside"},
		{"TooLong", `{"size":[2,2],"counts":"ooooooooooooooooo"}`, nil, "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := vision.DecodeSegmentation(json.RawMessage(tc.json))
			if tc.err == "" {
				if err != nil || !reflect.DeepEqual(r.Counts, tc.counts) {
					t.Fatalf("got %v, %v; want %v", r.Counts, err, tc.counts)
				}
				return
			}
			if !errors.Is(err, vision.ErrBadRLE) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want ErrBadRLE saying %q", err, tc.err)
			}
		})
	}
}

func FuzzParseRLEString(f *testing.F) {
	f.Add(96, 96, "PP9")
	f.Add(96, 96, "0PP9")
	f.Add(240, 320, "_SV1X1Q6>]O`0A?WOi0^Oa0aN_1H7K4L4L4M3M4L2N2O1O1O1O1O1O1O1O100O0")
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 5; i++ {
		h, w := 1+rng.Intn(40), 1+rng.Intn(40)
		f.Add(h, w, vision.EncodeMask(h, w, randomBlobs(rng, h, w, 2)).String())
	}
	f.Add(4, 4, "0PP9")
	f.Add(2, 2, "4P")
	f.Fuzz(func(t *testing.T, h, w int, s string) {
		if h > 512 || w > 512 {
			return // keep masks small enough to decode quickly
		}
		r, err := vision.ParseRLEString(h, w, s)
		if err != nil {
			if !errors.Is(err, vision.ErrBadRLE) {
				t.Fatalf("error does not wrap ErrBadRLE: %v", err)
			}
			return
		}
		back, err := vision.ParseRLEString(h, w, r.String())
		if err != nil || !reflect.DeepEqual(back.Counts, r.Counts) {
			t.Fatalf("re-encoding %q gives %q: %v", s, r.String(), err)
		}
		mask := r.Decode()
		if !reflect.DeepEqual(vision.EncodeMask(h, w, mask).Decode(), mask) {
			t.Fatal("decode/encode round trip differs")
		}
		if _, err := vision.Polygons(r); err != nil {
			t.Fatal(err)
		}
	})
}
