package vision_test

import (
	"math/rand"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
)

// benchMasks returns 20 realistic 640×640 instance masks as COCO RLE:
// each holds one to three irregular objects (unions of overlapping
// ellipses, some with a hole) from small to large.
func benchMasks() []mask.RLE {
	rng := rand.New(rand.NewSource(42))
	out := make([]mask.RLE, 20)
	for i := range out {
		m := make([]byte, 640*640)
		for k := 0; k < 1+rng.Intn(3); k++ {
			masktest.Object(rng, m, 640, 640, 1+rng.Intn(3), 10+rng.Float64()*110)
		}
		out[i] = mask.Encode(640, 640, m)
	}
	return out
}

func reportMasks(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "masks/s")
}

// BenchmarkPolygons640 is the production path: bounding box from the
// runs, crop, OpenCV on the crop.
func BenchmarkPolygons640(b *testing.B) {
	masks := benchMasks()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := vision.Polygons(masks[i%len(masks)]); err != nil {
			b.Fatal(err)
		}
	}
	reportMasks(b)
}

// BenchmarkPolygons640Full decodes the whole 640×640 mask and runs OpenCV
// on all of it, without the crop: what Polygons saves.
func BenchmarkPolygons640Full(b *testing.B) {
	masks := benchMasks()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := masks[i%len(masks)]
		if _, err := vision.PolygonsFromMask(r.Height, r.Width, r.Decode()); err != nil {
			b.Fatal(err)
		}
	}
	reportMasks(b)
}

// BenchmarkPolygons640FullFindOnly runs OpenCV on already decoded whole
// masks: the cost of findContours on 640×640 alone.
func BenchmarkPolygons640FullFindOnly(b *testing.B) {
	masks := benchMasks()
	decoded := make([][]byte, len(masks))
	for i, r := range masks {
		decoded[i] = r.Decode()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := vision.PolygonsFromMask(640, 640, decoded[i%len(decoded)]); err != nil {
			b.Fatal(err)
		}
	}
	reportMasks(b)
}

// BenchmarkParseRLEString640 decodes the compressed string form into
// counts; bytes/s are string bytes.
func BenchmarkParseRLEString640(b *testing.B) {
	masks := benchMasks()
	strs := make([]string, len(masks))
	size := 0
	for i, m := range masks {
		strs[i] = m.String()
		size += len(strs[i])
	}
	b.SetBytes(int64(size / len(strs)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := mask.ParseRLEString(640, 640, strs[i%len(strs)]); err != nil {
			b.Fatal(err)
		}
	}
	reportMasks(b)
}

// BenchmarkDecode640 expands RLE counts into the full row-major mask.
func BenchmarkDecode640(b *testing.B) {
	masks := benchMasks()
	b.SetBytes(640 * 640)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = masks[i%len(masks)].Decode()
	}
	reportMasks(b)
}
