package convert_test

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// cometCall is one line of a comet_calls.jsonl record.
type cometCall struct {
	Method string            `json:"method"`
	Args   []json.RawMessage `json:"args"`
	Kwargs struct {
		Name        string `json:"name"`
		Annotations []struct {
			Name string `json:"name"`
			Data []struct {
				Boxes  [][]float64 `json:"boxes"`
				Label  string      `json:"label"`
				Score  float64     `json:"score"`
				Points [][]int32   `json:"points"`
			} `json:"data"`
		} `json:"annotations"`
	} `json:"kwargs"`
}

func readCalls(t *testing.T, p string) []cometCall {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls []cometCall
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var c cometCall
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
	return calls
}

// TestCapture_MatchesCometImagePredictions checks the annotations of a
// captured run against what Ultralytics' Comet callback logged live for
// the same run: for every image it logged, the same ground-truth boxes and
// labels, and the same predictions in the same order with the same boxes,
// labels, scores and mask polygons (OpenCV contours).
func TestCapture_MatchesCometImagePredictions(t *testing.T) {
	for _, tc := range []struct{ run, data string }{
		{"segment-savejson", "datasets/segment/data.yaml"},
		{"detect-savejson", "datasets/detect/data.yaml"},
	} {
		t.Run(tc.run, func(t *testing.T) {
			_, a := capture(t, filepath.Join(fixtures, tc.run), convert.Options{Data: filepath.Join(fixtures, tc.data)})
			rows, err := archive.ReadTable[schemas.AnnotationRow](context.Background(), a, schemas.TableAnnotations)
			if err != nil {
				t.Fatal(err)
			}
			byImage := map[string]map[string][]schemas.AnnotationRow{}
			for _, r := range rows {
				if byImage[r.Image] == nil {
					byImage[r.Image] = map[string][]schemas.AnnotationRow{}
				}
				byImage[r.Image][r.Layer] = append(byImage[r.Image][r.Layer], r)
			}
			logged, polygons := 0, 0
			for _, c := range readCalls(t, filepath.Join("../testdata/calls", tc.run, "comet_calls.jsonl")) {
				if c.Method != "log_image" || len(c.Kwargs.Annotations) == 0 {
					continue
				}
				logged++
				key := convert.ImageKey(c.Kwargs.Name + ".jpg")
				for _, layer := range c.Kwargs.Annotations {
					ours := byImage[key][layer.Name]
					sort.Slice(ours, func(i, j int) bool { return ours[i].Index < ours[j].Index })
					if len(ours) != len(layer.Data) {
						t.Fatalf("image %s layer %s: %d annotations, Comet got %d", c.Kwargs.Name, layer.Name, len(ours), len(layer.Data))
					}
					for i, d := range layer.Data {
						r := ours[i]
						label, score := r.Label, 100.0
						if layer.Name == schemas.LayerGroundTruth {
							label = "gt_" + label
						} else {
							score = *r.Score * 100
						}
						box := []float64{*r.BoxX, *r.BoxY, *r.BoxW, *r.BoxH}
						if label != d.Label || !near(box, d.Boxes[0], 1e-3) || math.Abs(score-d.Score) > 1e-9 {
							t.Errorf("image %s %s %d: %s %v %v, Comet got %s %v %v", c.Kwargs.Name, layer.Name, i, label, box, score, d.Label, d.Boxes[0], d.Score)
						}
						if layer.Name == schemas.LayerPrediction && r.MaskRLE != nil {
							got := toInt32(r.Polygons)
							if len(got) != len(d.Points) || (len(got) > 0 && !reflect.DeepEqual(got, d.Points)) {
								t.Errorf("image %s prediction %d: polygons %v, Comet got %v", c.Kwargs.Name, i, got, d.Points)
							}
							polygons += len(got)
						}
					}
				}
			}
			if logged != 8 {
				t.Errorf("compared %d logged images, want the fixture's 8", logged)
			}
			if tc.run == "segment-savejson" && polygons == 0 {
				t.Error("no mask polygons were compared")
			}
		})
	}
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

func toInt32(polys [][]float64) [][]int32 {
	out := [][]int32{}
	for _, p := range polys {
		q := make([]int32, len(p))
		for i, v := range p {
			q[i] = int32(v)
		}
		out = append(out, q)
	}
	return out
}
