package convert_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

// maskRow is what the golden files keep of an annotation with a mask.
type maskRow struct {
	Index    int64       `json:"index"`
	Image    string      `json:"image"`
	RLE      string      `json:"rle"`
	Height   int32       `json:"height"`
	Width    int32       `json:"width"`
	Polygons [][]float64 `json:"polygons"`
}

// TestCapture_MaskPolygonsGolden captures every fixture with segmentation
// masks and compares each mask's RLE and polygons with the golden file
// written by the in-process gocv code that preceded the contours helper
// (testdata/polygons/*.jsonl.zst): polygons must not change by a single
// point when findContours moves to another process.
func TestCapture_MaskPolygonsGolden(t *testing.T) {
	total := 0
	for _, fr := range fixtureRuns() {
		if _, err := os.Stat(filepath.Join(fr.dir, "predictions.json")); err != nil || fr.task != "segment" {
			continue
		}
		name := filepath.Base(fr.dir)
		t.Run(name, func(t *testing.T) {
			_, a := capture(t, fr.dir, convert.Options{})
			rows, err := archive.ReadTable[schemas.AnnotationRow](a, schemas.TableAnnotations)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			n := 0
			for _, r := range rows {
				if r.MaskRLE == nil {
					continue
				}
				line, _ := json.Marshal(maskRow{r.Index, r.Image, *r.MaskRLE, *r.MaskHeight, *r.MaskWidth, r.Polygons})
				got.Write(append(line, '\n'))
				n++
			}
			if n == 0 {
				t.Fatal("no masks captured")
			}
			total += n
			golden := filepath.Join("testdata", "polygons", name+".jsonl.zst")
			if *update {
				writeZstd(t, golden, got.Bytes())
			}
			want := readZstd(t, golden)
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("mask polygons differ from %s: %s", golden, firstDiff(got.String(), string(want)))
			}
		})
	}
	if total != 195+368+368 {
		t.Errorf("compared %d masks, want %d", total, 195+368+368)
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < min(len(g), len(w)); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %.300s\nwant %.300s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

func writeZstd(t *testing.T, path string, data []byte) {
	t.Helper()
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, enc.EncodeAll(data, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readZstd(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	data, err := dec.DecodeAll(raw, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data
}
