package convert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/vision/contours"
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
			rows, err := archive.ReadTable[schemas.AnnotationRow](context.Background(), a, schemas.TableAnnotations)
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

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "yoloarchive-contours")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCapture_NoPolygons keeps every mask as RLE without polygons, records
// the gap, and never looks for the contours helper.
func TestCapture_NoPolygons(t *testing.T) {
	dir := filepath.Join(fixtures, "segment-val")
	never := contours.New(contours.Config{Path: filepath.Join(t.TempDir(), "missing")})
	res, a := capture(t, dir, convert.Options{NoPolygons: true, Contours: never})
	rows, err := archive.ReadTable[schemas.AnnotationRow](context.Background(), a, schemas.TableAnnotations)
	if err != nil {
		t.Fatal(err)
	}
	_, full := capture(t, dir, convert.Options{})
	want, _ := archive.ReadTable[schemas.AnnotationRow](context.Background(), full, schemas.TableAnnotations)
	if len(rows) != len(want) {
		t.Fatalf("%d annotations, want %d", len(rows), len(want))
	}
	masks := 0
	for i, r := range rows {
		if r.MaskRLE == nil {
			continue
		}
		masks++
		if len(r.Polygons) != 0 || *r.MaskRLE != *want[i].MaskRLE || *r.MaskHeight != *want[i].MaskHeight {
			t.Fatalf("row %d: polygons %v, rle %q; want none and %q", i, r.Polygons, *r.MaskRLE, *want[i].MaskRLE)
		}
	}
	var gap *schemas.GapRow
	for i := range res.Gaps {
		if res.Gaps[i].Item == "mask_polygons" {
			gap = &res.Gaps[i]
		}
	}
	if masks != 368 || gap == nil || !strings.Contains(gap.Reason, "368 segmentation masks") || !strings.Contains(gap.Reason, "--no-polygons") {
		t.Errorf("%d masks, gap %+v", masks, gap)
	}
}

// TestCapture_ContoursHelperFails: without a helper, or with one that
// dies or hangs, a capture with masks fails with one line naming
// predictions.json and what happened, and leaves nothing behind.
func TestCapture_ContoursHelperFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		helper func(t *testing.T) contours.Config
		want   []string
	}{
		{"Missing", func(t *testing.T) contours.Config {
			t.Setenv(contours.EnvPath, "")
			t.Setenv("PATH", t.TempDir())
			return contours.Config{}
		}, []string{"predictions.json: 368 segmentation masks need polygons", "yoloarchive-contours helper (OpenCV) is not installed", "--no-polygons"}},
		{"Dies", func(t *testing.T) contours.Config {
			return contours.Config{Path: script(t, "echo 'Segmentation fault' >&2; exit 139")}
		}, []string{"predictions.json: ", "yoloarchive-contours died (exit status 139) before it was ready: Segmentation fault"}},
		{"Hangs", func(t *testing.T) contours.Config {
			return contours.Config{Path: script(t, "exec /bin/sleep 60"), Timeout: 500 * time.Millisecond}
		}, []string{"predictions.json: ", "did not get ready in 500ms: killed it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := contours.New(tc.helper(t))
			t.Cleanup(func() { h.Close() })
			out := t.TempDir()
			start := time.Now()
			_, err := convert.Capture(context.Background(), filepath.Join(fixtures, "segment-val"), filepath.Join(out, "run.tar.zst"), convert.Options{Contours: h})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err spans lines: %q", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}
