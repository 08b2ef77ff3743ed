package vision_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// TestPolygons_RealMasks checks the real segmentation masks of two
// Ultralytics predictions.json files (a public 8.4 crack-segmentation val
// run and the 8.3.166 segment fixture) against the reference
// implementation.
func TestPolygons_RealMasks(t *testing.T) {
	total, polys := 0, 0
	for _, p := range []string{
		"../testdata/github-runs/public/omxqn__crack_detection__runs__segment__val/predictions.json",
		"../testdata/ultralytics-8.3.166/segment-savejson/predictions.json",
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var preds []struct {
			Segmentation json.RawMessage `json:"segmentation"`
		}
		if err := json.Unmarshal(data, &preds); err != nil {
			t.Fatal(err)
		}
		for i, pr := range preds {
			r, err := mask.DecodeSegmentation(pr.Segmentation)
			if err != nil {
				t.Fatalf("%s: prediction %d: %v", p, i, err)
			}
			got, err := vision.Polygons(r)
			if err != nil {
				t.Fatal(err)
			}
			want := refPolygons(r.Height, r.Width, r.Decode())
			if (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: prediction %d: %v, reference %v", p, i, got, want)
			}
			total++
			polys += len(got)
		}
	}
	if total != 195+368 || polys < 195 {
		t.Errorf("checked %d masks with %d polygons", total, polys)
	}
}
