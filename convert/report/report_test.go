package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert/report"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// The fixture archives: Ultralytics 8.3.166 detect and segment runs
// captured with their dataset (testdata/ultralytics-8.3.166 at the
// repository root, capture --data), so that their validation images and
// ground truth are stored.
var fixtures = []string{"testdata/detect-savejson.tar.zst", "testdata/segment-savejson.tar.zst"}

// writeReport writes the report of paths to a file and returns its path
// and result.
func writeReport(t *testing.T, paths []string, opt report.Options) (string, *report.Result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := report.Write(context.Background(), paths, f, opt)
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

func tables[T any](t *testing.T, path, table string) []T {
	t.Helper()
	a, err := archive.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rows, err := archive.ReadTable[T](context.Background(), a, table)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestWrite_Fixtures(t *testing.T) {
	out, res := writeReport(t, fixtures, report.Options{})
	var anns, images int
	for _, p := range fixtures {
		anns += len(tables[schemas.AnnotationRow](t, p, schemas.TableAnnotations))
		for _, im := range tables[schemas.ImageRow](t, p, schemas.TableImages) {
			switch im.Role {
			case schemas.RoleDatasetImage, schemas.RoleValBatchLabels, schemas.RoleValBatchPred:
				images++
			}
		}
	}
	if res.Runs != 2 || res.Images != images || res.Annotations != anns || len(res.Skipped) != 0 {
		t.Fatalf("runs %d, images %d, annotations %d, skipped %v; want 2, %d, %d, none", res.Runs, res.Images, res.Annotations, res.Skipped, images, anns)
	}
	// 12 curves, 4 confusion matrices, 2 results plots.
	if res.Plots != 18 {
		t.Errorf("plots %d, want 18", res.Plots)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(page)) != res.Bytes {
		t.Errorf("Bytes %d, file %d", res.Bytes, len(page))
	}
	// The page's data is one JSON object, with every run.
	m := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindSubmatch(page)
	var data struct {
		Title string            `json:"title"`
		Runs  []json.RawMessage `json:"runs"`
	}
	if m == nil {
		t.Fatal("the page has no data")
	}
	if err := json.Unmarshal(m[1], &data); err != nil || data.Title != "yoloarchive report" || len(data.Runs) != 2 {
		t.Fatalf("the page's data: title %q, %d runs (%v)", data.Title, len(data.Runs), err)
	}
	// Nothing that a browser would fetch: no src or href but data: URIs
	// and in-page anchors, no @import or url() in the styles.
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(src|href)\s*=\s*["']?([^"'#\s>][^"'\s>]*)`),
		regexp.MustCompile(`(?i)@import|url\(\s*['"]?[a-z]+:`),
	} {
		for _, m := range re.FindAllStringSubmatch(string(page), -1) {
			if len(m) > 2 && strings.HasPrefix(m[2], "data:") {
				continue
			}
			t.Errorf("the page references %q", m[0])
		}
	}
}

// TestWrite_SizeBudget: ten runs stay within ten times the budget per run
// (images as thumbnails, full size at most 1024 pixels).
func TestWrite_SizeBudget(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 10 {
		data, err := os.ReadFile(fixtures[i%2])
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("run%d.tar.zst", i))
		os.WriteFile(p, data, 0o644)
		paths = append(paths, p)
	}
	_, res := writeReport(t, paths, report.Options{})
	if res.Runs != 10 {
		t.Fatalf("runs %d, want 10", res.Runs)
	}
	if budget := int64(10 * report.DefaultBudgetPerRun); res.Bytes > budget {
		t.Errorf("10 runs: %d bytes, over the budget of %d", res.Bytes, budget)
	}
	t.Logf("10 runs: %.2f MiB", float64(res.Bytes)/(1<<20))
}

// TestWrite_ThumbnailsOnly: without full views the report is much
// smaller.
func TestWrite_ThumbnailsOnly(t *testing.T) {
	_, full := writeReport(t, fixtures, report.Options{})
	_, small := writeReport(t, fixtures, report.Options{FullPx: -1})
	if small.Images != full.Images || small.Plots != full.Plots || small.Bytes*3 > full.Bytes {
		t.Errorf("thumbnails only: %d images, %d plots, %d bytes; with full views %d, %d, %d bytes", small.Images, small.Plots, small.Bytes, full.Images, full.Plots, full.Bytes)
	}
	t.Logf("2 runs: %d bytes, thumbnails only %d", full.Bytes, small.Bytes)
}

func TestWrite_BadArchive(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.tar.zst")
	os.WriteFile(bad, []byte("not an archive"), 0o644)
	var buf bytes.Buffer
	_, err := report.Write(context.Background(), []string{fixtures[0], bad}, &buf, report.Options{})
	var ie *report.InputError
	if !errors.As(err, &ie) || ie.Path != bad || !strings.Contains(err.Error(), "broken.tar.zst") {
		t.Fatalf("err %v, want an InputError naming %s", err, bad)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

// TestWrite_ImagesOverBudget: an image larger than the pixel budget is
// left out, said so, and decoded never.
func TestWrite_ImagesOverBudget(t *testing.T) {
	ctx := archive.WithBudget(context.Background(), archive.Limits{MaxPixels: 100 * 100})
	var buf bytes.Buffer
	res, err := report.Write(ctx, []string{synthetic(t, t.TempDir())}, &buf, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Images != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "over budget: image of 320×240") {
		t.Fatalf("images %d, skipped %q; want the image left out over the budget", res.Images, res.Skipped)
	}
}

// synthetic writes an archive of a pose and obb run with realistic
// annotations (ground truth and predictions with scores from 0.05 to
// 0.95: boxes, rotated boxes, keypoints, a polygon) on one 320x240
// validation image, and returns its path.
func synthetic(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, nil); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "img.jpg")
	if err := os.WriteFile(blob, jb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := archive.HashFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	const id = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	f := func(v float64) *float64 { return &v }
	planned := int64(4)
	run := schemas.RunRow{RunID: id, SourceKind: schemas.SourceUltralyticsTrain, SourceName: "pose-obb", Name: "pose-obb",
		Task: "pose", Mode: "train", Status: schemas.StatusFinished, EpochsCompleted: 4, EpochsPlanned: &planned}
	var scalars []schemas.ScalarRow
	for e := int64(1); e <= 4; e++ {
		scalars = append(scalars,
			schemas.ScalarRow{Metric: "train/pose_loss", Epoch: e, Value: 5 / float64(e)},
			schemas.ScalarRow{Metric: "metrics/mAP50-95(P)", Epoch: e, Value: []float64{0.1, 0.4, math.NaN(), 0.3}[e-1]},
			// A loss that overflowed (AMP) in its last epoch.
			schemas.ScalarRow{Metric: "val/pose_loss", Epoch: e, Value: []float64{3, 2, 1, math.Inf(1)}[e-1]},
			schemas.ScalarRow{Metric: "metrics/mAP50(P)", Epoch: e, Value: []float64{0.2, math.Inf(1), 0.5, 0.6}[e-1]})
	}
	step := int64(0)
	images := []schemas.ImageRow{{Blob: sum.SHA256, Role: schemas.RoleDatasetImage, FileName: "images/val/a.jpg", Name: "a",
		Width: 320, Height: 240, MediaType: "image/jpeg", Size: sum.Size, Step: &step}}
	var anns []schemas.AnnotationRow
	for i := range 10 {
		x := float64(10 + 30*i)
		a := schemas.AnnotationRow{Image: "a", ImageFile: "images/val/a.jpg", Layer: schemas.LayerPrediction, Label: "person",
			Score: f(0.05 + 0.1*float64(i)), BoxX: f(x), BoxY: f(20), BoxW: f(25), BoxH: f(60), Origin: "predictions.json", Index: int64(i)}
		switch i % 3 {
		case 0:
			a.Keypoints = []float64{x + 5, 30, 2, x + 15, 30, 2, x + 10, 50, 0}
		case 1:
			a.RBox = []float64{x + 12, 120, 25, 40, 0.3}
		case 2:
			a.Polygons = [][]float64{{x, 180, x + 20, 180, x + 10, 220}}
		}
		anns = append(anns, a)
	}
	for i := range 3 {
		x := float64(20 + 90*i)
		anns = append(anns, schemas.AnnotationRow{Image: "a", ImageFile: "images/val/a.jpg", Layer: schemas.LayerGroundTruth, Label: "person",
			BoxX: f(x), BoxY: f(25), BoxW: f(30), BoxH: f(55), Keypoints: []float64{x + 5, 30, 2, x + 15, 32, 1}, Origin: "labels/val/a.txt", Index: int64(i)})
	}
	dst := filepath.Join(dir, "pose-obb.tar.zst")
	w, err := archive.Create(dst, schemas.Header{RunID: id, SourceKind: schemas.SourceUltralyticsTrain, Writer: "test",
		Tables: []string{schemas.TableRun, schemas.TableScalars, schemas.TableImages, schemas.TableAnnotations}}, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{run}),
		archive.WriteRows(w, schemas.TableScalars, scalars),
		archive.WriteRows(w, schemas.TableImages, images),
		archive.WriteRows(w, schemas.TableAnnotations, anns),
		w.AddFile(sum, blob),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestWrite_NaNAndInf: NaN and infinite values (a loss that overflowed)
// are shown, not a failure.
func TestWrite_NaNAndInf(t *testing.T) {
	var buf bytes.Buffer
	res, err := report.Write(context.Background(), []string{synthetic(t, t.TempDir())}, &buf, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Runs != 1 || !strings.Contains(buf.String(), `"final":"Infinity"`) || !strings.Contains(buf.String(), `"best":"Infinity"`) {
		t.Errorf("runs %d; the page's data lacks the infinite final loss or best mAP50", res.Runs)
	}
}
