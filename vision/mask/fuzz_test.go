package mask_test

import (
	"errors"
	"math/rand"
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

// FuzzParseRLEString checks that no string makes ParseRLEString panic or
// allocate without bound, that whatever it accepts is a valid RLE that
// pycocotools' rleFrString reads the same way, re-encodes to a string that
// parses back to the same counts, and (for small masks) decodes and
// re-encodes to the same mask, with the right bounding box.
func FuzzParseRLEString(f *testing.F) {
	// The Ultralytics fixture's masks and masks of a real segmentation run.
	f.Add(96, 96, "PP9")
	f.Add(96, 96, "0PP9")
	f.Add(240, 320, "g[`1h0e65D=K5L3M3L3N2M2N3N10O100O1N2O1N2M3N2L4J:F8@?FTQe0")
	f.Add(240, 320, "aPS1P2]59H8I5J5K4M3L5L3M3M3L3N3M2N2N2N3M2O0O2N2N2O0O1O100O100O100O10O001O001O001O1O1O1O1O1O1N2O1N2N2N2N2N2M3N2L4K5E;L4M3L4N2N2N2O1O1N2O1O100O1O100O1O100O100O101O1N1O2O001O1N101N101N2N2O2M2M4L6I7G:Em_a0")
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 6; i++ {
		h, w := 1+rng.Intn(40), 1+rng.Intn(40)
		f.Add(h, w, mask.Encode(h, w, masktest.RandomBlobs(rng, h, w, 2)).String())
	}
	// Broken ones: overrun, short, unterminated, bad characters, too many
	// groups, negative counts and sizes, over the size cap.
	f.Add(4, 4, "0PP9")
	f.Add(2, 2, "2")
	f.Add(2, 2, "4P")
	f.Add(2, 2, "4~")
	f.Add(96, 96, "PPPPPPPPPPPPP0")
	f.Add(2, 2, "000O")
	f.Add(-2, 2, "4")
	f.Add(1<<15, 1<<15, "0")
	f.Fuzz(func(t *testing.T, h, w int, s string) {
		r, err := mask.ParseRLEString(h, w, s)
		if err != nil {
			if !errors.Is(err, mask.ErrBadRLE) {
				t.Fatalf("error does not wrap ErrBadRLE: %v", err)
			}
			if r.Counts != nil {
				t.Fatalf("error %v with counts %v", err, r.Counts)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid RLE: %v", err)
		}
		if cc, ok := cocoFrString(s); ok && !reflect.DeepEqual(cc, r.Counts) {
			t.Fatalf("counts %v, rleFrString %v", r.Counts, cc)
		}
		enc := r.String()
		if cs := cocoToString(r.Counts); enc != cs {
			t.Fatalf("String %q, rleToString %q", enc, cs)
		}
		back, err := mask.ParseRLEString(h, w, enc)
		if err != nil || !reflect.DeepEqual(back.Counts, r.Counts) {
			t.Fatalf("re-encoding %q gives %q, which parses to %v, %v", s, enc, back.Counts, err)
		}
		if h*w > 1<<16 {
			return // keep each input fast: the rest decodes the mask
		}
		m := r.Decode()
		if got := mask.Encode(h, w, m).Decode(); !reflect.DeepEqual(got, m) {
			t.Fatal("decode, encode, decode differs")
		}
		if got, want := r.Bounds(), boundsOf(h, w, m); got != want {
			t.Fatalf("bounds %v, want %v", got, want)
		}
	})
}
