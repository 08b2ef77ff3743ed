package vision_test

import (
	"math/rand"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
)

// benchMasks returns n realistic 640×640 instance masks: one object each
// (an ellipse, sometimes with a hole, sometimes two parts), of varied size,
// as COCO RLE.
func benchMasks(n int) []vision.RLE {
	rng := rand.New(rand.NewSource(42))
	out := make([]vision.RLE, n)
	for i := range out {
		m := randomBlobs(rng, 640, 640, 1+rng.Intn(2))
		out[i] = vision.EncodeMask(640, 640, m)
	}
	return out
}

func reportMasks(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "masks/s")
}

// BenchmarkPolygons640 is the production path: bounding-box crop, then
// OpenCV.
func BenchmarkPolygons640(b *testing.B) {
	masks := benchMasks(20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := vision.Polygons(masks[i%len(masks)]); err != nil {
			b.Fatal(err)
		}
	}
	reportMasks(b)
}

// BenchmarkPolygons640Full decodes the whole 640×640 mask and runs OpenCV
// on it, without the crop.
func BenchmarkPolygons640Full(b *testing.B) {
	masks := benchMasks(20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := masks[i%len(masks)]
		if _, err := vision.PolygonsFromMask(r.Height, r.Width, r.Decode()); err != nil {
			b.Fatal(err)
		}
	}
	reportMasks(b)
}

// BenchmarkParseRLEString640 decodes the compressed string form.
func BenchmarkParseRLEString640(b *testing.B) {
	masks := benchMasks(20)
	strs := make([]string, len(masks))
	for i, m := range masks {
		strs[i] = m.String()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := vision.ParseRLEString(640, 640, strs[i%len(strs)]); err != nil {
			b.Fatal(err)
		}
	}
	reportMasks(b)
}
