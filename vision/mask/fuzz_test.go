package mask_test

import (
	"errors"
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
	masktest.AddRLESeeds(f)
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
