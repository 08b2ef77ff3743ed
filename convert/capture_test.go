package convert_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
)

const (
	fixtures  = "../testdata/ultralytics-8.3.166"
	githubDir = "../testdata/github-runs/public"
)

// fixtureRun is a run directory of testdata with what is known about it
// (github-runs/public/SOURCES.md).
type fixtureRun struct {
	dir        string
	kind, task string
	minV, maxV string // the release range SOURCES.md gives; "" for YOLOv5
}

func fixtureRuns() []fixtureRun {
	g := func(dir, task, minV, maxV string) fixtureRun {
		return fixtureRun{filepath.Join(githubDir, dir), schemas.SourceUltralyticsTrain, task, minV, maxV}
	}
	u := func(dir, task string) fixtureRun {
		return fixtureRun{filepath.Join(fixtures, dir), schemas.SourceUltralyticsTrain, task, "8.3.166", "8.3.166"}
	}
	val := func(r fixtureRun) fixtureRun { r.kind = schemas.SourceUltralyticsVal; return r }
	return []fixtureRun{
		u("detect", "detect"),
		u("detect-savejson", "detect"),
		u("segment-savejson", "segment"),
		u("detect-clearml", "detect"),
		val(u("segment-val", "segment")),
		g("Kamkus__Fruits-and-Vegetables-classification-using-YOLOv8__runs__classify__train", "classify", "8.0.235", "8.1.32"),
		g("rafaelpadilla__tennis_autodistill__runs__classify__train", "classify", "8.3.0", "8.3.8"),
		g("BabyMelvin__yolo_learn__runs__classify__train", "classify", "8.3.38", "8.3.104"),
		g("A-Alviento__rock-paper-scissors-yolo-object-detection__runs__detect__train", "detect", "8.0.93", "8.0.109"),
		g("AbdulRahmaan03__Yolov8-Custom-Dataset-Training__runs__detect__train", "detect", "8.1.33", "8.2.103"),
		g("rafaelpadilla__tennis_autodistill__runs__detect__train", "detect", "8.3.0", "8.3.8"),
		g("PranavU-Coder__arrow_detection__runs__detect__train", "detect", "8.3.136", "8.3.161"),
		g("jensi92__traffic_sign_detection__runs__train", "detect", "8.3.196", "8.3.253"),
		g("BabyMelvin__yolo_learn__runs__detect__train", "detect", "8.3.38", "8.3.104"),
		val(g("sunnguyen180200__Helmet_Detection__runs__detect__val", "detect", "8.3.48", "8.3.161")),
		val(g("fbuljan__car-detection-and-counter__runs__detect__val", "detect", "8.3.89", "8.3.89")),
		{filepath.Join(githubDir, "483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp"), schemas.SourceYOLOv5Train, "detect", "", ""},
		g("natalia-romero__ey-challenge__runs__obb__train", "obb", "8.1.0", "8.1.32"),
		g("deetdoot__vertical-text-detection__runs__obb__train2", "obb", "8.3.119", "8.3.153"),
		g("BabyMelvin__yolo_learn__runs__obb__train", "obb", "8.3.38", "8.3.104"),
		g("akhilasok96__custom_pose_estimation__runs__pose__train", "pose", "8.0.235", "8.1.32"),
		g("kaice88__Yolov8-pose__runs__pose__train", "pose", "8.0.71", "8.0.88"),
		g("JdoubleU2__YOLOv8-Pose-Estimation-Clean-n-Jerk__runs3__runs__pose__train3", "pose", "8.3.196", "8.3.253"),
		g("BabyMelvin__yolo_learn__runs__pose__train", "pose", "8.3.38", "8.3.104"),
		g("vbalab__YOLO26s-pose-hands__runs__pose__train", "pose", "8.4.8", "8.4.36"),
		g("BhushanMalusare__Car-Segmentation-using-YOLOv8__runs__segment__train", "segment", "8.0.229", "8.0.232"),
		g("Kuhananth-Chandrapalan__yolov8_segment__runs__segment__train", "segment", "8.1.33", "8.2.103"),
		g("BabyMelvin__yolo_learn__runs__segment__train", "segment", "8.3.38", "8.3.104"),
		g("DDSSMahith__Pothole-Segmentation-using-YOLOv8__runs__segment__train", "segment", "8.4.0", "8.4.7"),
		g("omxqn__crack_detection__runs__segment__runs__crack_detection3", "segment", "8.4.8", "8.4.36"),
		val(g("omxqn__crack_detection__runs__segment__val", "segment", "8.4.0", "8.4.99")),
	}
}

// TestFixtureList makes sure every run directory of testdata is covered.
func TestFixtureList(t *testing.T) {
	covered := map[string]bool{}
	for _, r := range fixtureRuns() {
		covered[filepath.Clean(r.dir)] = true
	}
	ents, _ := os.ReadDir(githubDir)
	for _, e := range ents {
		p := filepath.Clean(filepath.Join(githubDir, e.Name()))
		if e.IsDir() && !covered[p] && !strings.Contains(e.Name(), "__datasets__") {
			t.Errorf("%s is not in fixtureRuns", e.Name())
		}
	}
}

// semver compares dotted versions.
func semverLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(pa) {
			x = atoi(pa[i])
		}
		if i < len(pb) {
			y = atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func atoi(s string) int {
	if s == "x" {
		return 999
	}
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// capture captures a directory into a temporary archive and opens it.
func capture(t *testing.T, dir string, opts convert.Options) (*convert.Result, *archive.Archive) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "run.tar.zst")
	res, err := convert.Capture(context.Background(), dir, dst, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Verify(context.Background(), dst); err != nil {
		t.Fatalf("verify: %v", err)
	}
	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return res, a
}

func TestCapture_Fixtures(t *testing.T) {
	for _, fr := range fixtureRuns() {
		t.Run(filepath.Base(fr.dir), func(t *testing.T) {
			_, a := capture(t, fr.dir, convert.Options{})
			runs, err := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
			if err != nil || len(runs) != 1 {
				t.Fatalf("run table: %v %v", runs, err)
			}
			run := runs[0]
			if run.SourceKind != fr.kind || run.Task != fr.task {
				t.Errorf("kind/task = %s/%s, want %s/%s", run.SourceKind, run.Task, fr.kind, fr.task)
			}
			if a.Header.RunID != run.RunID || len(run.RunID) != 32 {
				t.Errorf("run id %q, header %q", run.RunID, a.Header.RunID)
			}
			checkVersion(t, run, fr)
			checkScalars(t, a, fr.dir)
			checkParams(t, a, fr.dir)
			checkFiles(t, a, fr.dir)
		})
	}
}

func checkVersion(t *testing.T, run schemas.RunRow, fr fixtureRun) {
	t.Helper()
	if fr.minV == "" {
		if run.VersionMin != nil || run.Producer != schemas.ProducerYOLOv5 {
			t.Errorf("YOLOv5 run: producer %q, version range %v", run.Producer, run.VersionMin)
		}
		return
	}
	if run.Producer != schemas.ProducerUltralytics {
		t.Errorf("producer %q, want %q", run.Producer, schemas.ProducerUltralytics)
	}
	if run.VersionMin == nil || run.VersionMax == nil {
		t.Fatalf("no version range; evidence: %v", run.VersionEvidence)
	}
	lo, hi := *run.VersionMin, *run.VersionMax
	if semverLess(fr.minV, lo) || semverLess(hi, fr.maxV) {
		t.Errorf("version range %s–%s does not contain the known %s–%s; evidence: %v", lo, hi, fr.minV, fr.maxV, run.VersionEvidence)
	}
}

// checkScalars compares the scalars table with results.csv, bit for bit.
func checkScalars(t *testing.T, a *archive.Archive, dir string) {
	t.Helper()
	scalars, err := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "results.csv")
	if _, err := os.Stat(p); err != nil {
		if len(scalars) != 0 {
			t.Errorf("%d scalars without results.csv", len(scalars))
		}
		return
	}
	header, rows := readCSVIndependently(t, p)
	if got, want := len(scalars), len(rows)*(len(header)-1); got != want {
		t.Fatalf("scalars = %d, want %d", got, want)
	}
	base := rows[0][0]
	i := 0
	for _, row := range rows {
		for j := 1; j < len(header); j++ {
			s := scalars[i]
			i++
			if s.Metric != strings.TrimSpace(header[j]) || float64(s.Epoch) != row[0]+1-base {
				t.Fatalf("scalar %d = %s@%d, want %s@%v", i, s.Metric, s.Epoch, header[j], row[0]+1-base)
			}
			if math.Float64bits(s.Value) != math.Float64bits(row[j]) {
				t.Fatalf("%s@%d = %v, want %v bit for bit", s.Metric, s.Epoch, s.Value, row[j])
			}
		}
	}
}

// checkParams compares the params table with the settings files, decoded
// independently into plain maps.
func checkParams(t *testing.T, a *archive.Archive, dir string) {
	t.Helper()
	params, err := archive.ReadTable[schemas.ParamRow](context.Background(), a, schemas.TableParams)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, name := range []string{"args.yaml", "opt.yaml", "hyp.yaml"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		want += len(m)
		section := strings.TrimSuffix(name, ".yaml")
		for _, p := range params {
			if p.Section != section {
				continue
			}
			v, ok := m[p.Key]
			if !ok {
				t.Errorf("param %s.%s not in %s", section, p.Key, name)
				continue
			}
			checkParamValue(t, p, v)
		}
	}
	if len(params) != want {
		t.Errorf("params = %d, want %d", len(params), want)
	}
}

func checkParamValue(t *testing.T, p schemas.ParamRow, v any) {
	t.Helper()
	bad := false
	switch x := v.(type) {
	case nil:
		bad = p.Type != schemas.TypeNull
	case bool:
		bad = p.Bool == nil || *p.Bool != x
	case int:
		bad = p.Int == nil || *p.Int != int64(x)
	case float64:
		bad = p.Float == nil || (*p.Float != x && !(math.IsNaN(x) && math.IsNaN(*p.Float)))
	case string:
		bad = p.String == nil || *p.String != x
	case []any:
		bad = p.Type != schemas.TypeList || len(p.Items) != len(x)
	}
	if bad {
		t.Errorf("param %s = %+v, want %v (%T)", p.Key, p, v, v)
	}
}

// checkFiles checks that every file of the run is stored once, as an image
// or an asset, with its exact bytes.
func checkFiles(t *testing.T, a *archive.Archive, dir string) {
	t.Helper()
	images, _ := archive.ReadTable[schemas.ImageRow](context.Background(), a, schemas.TableImages)
	assets, _ := archive.ReadTable[schemas.AssetRow](context.Background(), a, schemas.TableAssets)
	stored := map[string]string{}
	for _, im := range images {
		if im.Role != schemas.RoleDatasetImage {
			stored[im.FileName] = im.Blob
			if im.Width <= 0 || im.Height <= 0 {
				t.Errorf("image %s has size %dx%d", im.FileName, im.Width, im.Height)
			}
		}
	}
	for _, as := range assets {
		stored[as.FileName] = as.Blob
	}
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	if len(files) != len(stored) {
		t.Errorf("%d files in the run, %d stored", len(files), len(stored))
	}
	blobs := map[string][]byte{}
	a.Blobs(context.Background(), nil, func(e *archive.Entry) error {
		b := new(bytes.Buffer)
		_, err := b.ReadFrom(e)
		blobs[e.Key] = b.Bytes()
		return err
	})
	for _, f := range files {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		if !bytes.Equal(blobs[stored[f]], data) {
			t.Errorf("%s: stored bytes differ from the file", f)
		}
	}
}

func TestCapture_Deterministic(t *testing.T) {
	dir := filepath.Join(fixtures, "segment-savejson")
	opts := convert.Options{Data: filepath.Join(fixtures, "datasets/segment/data.yaml")}
	var outs [][]byte
	for _, workers := range []int{1, 3} {
		dst := filepath.Join(t.TempDir(), "run.tar.zst")
		opts.Workers = workers
		if _, err := convert.Capture(context.Background(), dir, dst, opts); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(dst)
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("two captures of the same run differ")
	}
}

// copyDir copies a run directory for tests that damage it.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestCapture_BadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(dir string) string // returns the source to capture
		want   string                  // the error must contain it
	}{
		{"MissingDirectory", func(dir string) string { return filepath.Join(dir, "nope") }, "no such file or directory"},
		{"NotARun", func(dir string) string { sub := filepath.Join(dir, "empty"); os.Mkdir(sub, 0o755); return sub }, "not a run"},
		{"EmptyResults", func(dir string) string { os.WriteFile(filepath.Join(dir, "results.csv"), nil, 0o644); return dir }, "results.csv: convert: bad results.csv: the file is empty"},
		{"CorruptResults", func(dir string) string {
			os.WriteFile(filepath.Join(dir, "results.csv"), []byte("epoch,time,a\n1,2,3\n2,x,4\n"), 0o644)
			return dir
		}, "results.csv:3:"},
		{"ZeroByteImage", func(dir string) string { os.WriteFile(filepath.Join(dir, "train_batch1.jpg"), nil, 0o644); return dir }, "train_batch1.jpg: imagesize: bad image: 0-byte image"},
		{"CorruptArgs", func(dir string) string {
			os.WriteFile(filepath.Join(dir, "args.yaml"), []byte("task: [detect\n"), 0o644)
			return dir
		}, "args.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join(fixtures, "detect"))
			src := tc.damage(dir)
			out := t.TempDir()
			_, err := convert.Capture(context.Background(), src, filepath.Join(out, "run.tar.zst"), convert.Options{})
			if err == nil {
				t.Fatal("capture succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

func TestCapture_Canceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	_, err := convert.Capture(ctx, filepath.Join(fixtures, "detect"), filepath.Join(out, "run.tar.zst"), convert.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// withWeights copies the detect fixture with AutoBatch in args.yaml and a
// checkpoint recording the batch size and version.
func withWeights(t *testing.T) string {
	t.Helper()
	dir := copyDir(t, filepath.Join(fixtures, "detect"))
	args, _ := os.ReadFile(filepath.Join(dir, "args.yaml"))
	os.WriteFile(filepath.Join(dir, "args.yaml"), bytes.Replace(args, []byte("batch: 8\n"), []byte("batch: -1\n"), 1), 0o644)
	os.MkdirAll(filepath.Join(dir, "weights"), 0o755)
	ckpt, _ := os.ReadFile("../testdata/checkpoints/autobatch.pt")
	os.WriteFile(filepath.Join(dir, "weights/best.pt"), ckpt, 0o644)
	os.WriteFile(filepath.Join(dir, "weights/last.pt"), append(ckpt[:len(ckpt):len(ckpt)], 0), 0o644)
	os.WriteFile(filepath.Join(dir, "weights/epoch0.pt"), []byte("periodic checkpoint"), 0o644)
	return dir
}

func gapItems(gaps []schemas.GapRow) map[string]bool {
	m := map[string]bool{}
	for _, g := range gaps {
		m[g.Item] = true
	}
	return m
}

func TestCapture_Weights(t *testing.T) {
	dir := withWeights(t)
	for _, tc := range []struct {
		name        string
		opts        convert.Options
		wantRoles   []string
		wantGap     bool
		wantWeights int
	}{
		{"Default", convert.Options{}, []string{schemas.RoleWeightsBest, schemas.RoleWeightsLast}, true, 2},
		{"AllWeights", convert.Options{AllWeights: true}, []string{schemas.RoleWeightsBest, schemas.RoleWeightsLast, schemas.RoleWeightsEpoch}, false, 3},
		{"NoWeights", convert.Options{NoWeights: true}, nil, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, a := capture(t, dir, tc.opts)
			runs, _ := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
			run := runs[0]
			if run.UltralyticsVersion == nil || *run.UltralyticsVersion != "8.3.166" || *run.VersionMin != "8.3.166" {
				t.Errorf("version = %v, evidence %v", run.UltralyticsVersion, run.VersionEvidence)
			}
			if run.Batch == nil || *run.Batch != 24 {
				t.Errorf("batch = %v, want 24 from the checkpoint", run.Batch)
			}
			gaps := gapItems(res.Gaps)
			if gaps["batch_size"] || gaps["ultralytics_version"] {
				t.Errorf("gaps %v: batch size and version are known", gaps)
			}
			if gaps["weights"] != tc.wantGap {
				t.Errorf("weights gap = %v, want %v", gaps["weights"], tc.wantGap)
			}
			assets, _ := archive.ReadTable[schemas.AssetRow](context.Background(), a, schemas.TableAssets)
			n := 0
			for _, as := range assets {
				if as.Role == schemas.RoleWeightsBest || as.Role == schemas.RoleWeightsLast || as.Role == schemas.RoleWeightsEpoch {
					n++
				}
			}
			if n != tc.wantWeights {
				t.Errorf("%d weight assets, want %d", n, tc.wantWeights)
			}
		})
	}
}

func TestCapture_BatchUnknown(t *testing.T) {
	dir := withWeights(t)
	os.RemoveAll(filepath.Join(dir, "weights"))
	res, a := capture(t, dir, convert.Options{})
	runs, _ := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
	if runs[0].Batch != nil {
		t.Errorf("batch = %d, want unknown", *runs[0].Batch)
	}
	if gaps := gapItems(res.Gaps); !gaps["batch_size"] || !gaps["model"] || !gaps["ultralytics_version"] {
		t.Errorf("gaps = %v", gaps)
	}
}

// TestCapture_BadMask breaks one mask of the segment fixture's
// predictions.json: the capture fails naming the file and the prediction,
// unless SkipBadMasks is set, which keeps every other polygon.
func TestCapture_BadMask(t *testing.T) {
	dir := copyDir(t, filepath.Join(fixtures, "segment-savejson"))
	p := filepath.Join(dir, "predictions.json")
	data, _ := os.ReadFile(p)
	// The 11th prediction's all-ones mask "0PP9" becomes "0PP:": counts
	// that overrun the 96x96 mask.
	i := bytes.Index(data, []byte(`"0PP9"`))
	data[i+4] = ':'
	os.WriteFile(p, data, 0o644)
	opts := convert.Options{Data: filepath.Join(fixtures, "datasets/segment/data.yaml")}
	out := t.TempDir()
	_, err := convert.Capture(context.Background(), dir, filepath.Join(out, "run.tar.zst"), opts)
	if err == nil || !strings.Contains(err.Error(), "predictions.json: 1 segmentation masks do not decode, first prediction 10") ||
		!strings.Contains(err.Error(), "overrun") || !strings.Contains(err.Error(), "--skip-bad-masks") {
		t.Fatalf("err = %v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	opts.SkipBadMasks = true
	res, a := capture(t, dir, opts)
	if !gapItems(res.Gaps)["mask_polygons"] {
		t.Errorf("no mask_polygons gap: %v", res.Gaps)
	}
	rows, _ := archive.ReadTable[schemas.AnnotationRow](context.Background(), a, schemas.TableAnnotations)
	withPolys := 0
	for _, r := range rows {
		if r.Layer == schemas.LayerPrediction && r.Index == 10 && (len(r.Polygons) != 0 || r.MaskRLE != nil) {
			t.Errorf("the broken mask has polygons %v", r.Polygons)
		}
		if r.Layer == schemas.LayerPrediction && len(r.Polygons) > 0 {
			withPolys++
		}
	}
	if withPolys != 287 { // 288 all-ones masks in the fixture, one broken
		t.Errorf("%d predictions with polygons, want 287", withPolys)
	}
}
