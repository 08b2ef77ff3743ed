package vision_test

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

// FuzzPolygons checks, for every COCO RLE string that parses into a small
// mask, that the polygons of the cropped mask are those of the whole mask
// (the crop in Polygons relies on OpenCV padding its input). The seeds are
// FuzzParseRLEString's (package mask).
func FuzzPolygons(f *testing.F) {
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
		if err != nil || h*w > 1<<16 {
			return // parsing is FuzzParseRLEString's; keep each input fast
		}
		crop, err := vision.Polygons(r)
		if err != nil {
			t.Fatal(err)
		}
		full, err := vision.PolygonsFromMask(h, w, r.Decode())
		if err != nil {
			t.Fatal(err)
		}
		if (len(crop) > 0 || len(full) > 0) && !reflect.DeepEqual(crop, full) {
			t.Fatalf("crop %v, full %v", crop, full)
		}
	})
}
