package convert_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

func FuzzParseParams(f *testing.F) {
	for _, p := range []string{
		filepath.Join(fixtures, "detect/args.yaml"),
		filepath.Join(githubDir, "483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp/opt.yaml"),
		filepath.Join(githubDir, "483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp/hyp.yaml"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &x 1\nb: *x\nc: {d: [1, 2.0, x]}\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := convert.ParseParams(bytes.NewReader(data), "args.yaml", "args")
		if err != nil {
			if !errors.Is(err, convert.ErrBadParams) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error: %q", err)
			}
			return
		}
		for i, r := range p.Rows {
			if int(r.Position) != i || r.Key == "" || r.Type == "" {
				t.Fatalf("row %d = %+v", i, r)
			}
		}
	})
}

func FuzzReadPredictions(f *testing.F) {
	for _, p := range []string{
		filepath.Join(fixtures, "detect-savejson/predictions.json"),
		filepath.Join(githubDir, "omxqn__crack_detection__runs__segment__val/predictions.json"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 { // keep the seeds short: cut after the first objects
			i := bytes.Index(data[2048:], []byte("}, {"))
			data = append(data[:2048+i+1], ']')
		}
		f.Add(data)
	}
	f.Add([]byte(`[{"image_id": "a", "category_id": 1, "score": 0.5, "rbox": [1,2,3,4,0.5], "poly": [1,2,3,4,5,6,7,8]}]`))
	f.Add([]byte(`[{"image_id": 7, "category_id": 1, "bbox": [1,2,3,4], "score": 0.8, "keypoints": [1,2,0.9]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := convert.ReadPredictions(bytes.NewReader(data), "predictions.json", func(p *convert.Prediction) error {
			if p.Index != int64(n) || p.Image == "" {
				t.Fatalf("prediction %d = %+v", n, p)
			}
			n++
			return nil
		})
		if err != nil && (!errors.Is(err, convert.ErrBadPredictions) || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("bad error: %q", err)
		}
	})
}
