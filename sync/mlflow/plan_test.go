package mlflow_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

func open(t *testing.T, dir string) *ysync.Run {
	t.Helper()
	r, err := ysync.Open(context.Background(), synctest.Capture(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

type point struct {
	key  string
	step int64
	v    float64
}

// expectedFromCSV reads results.csv on its own and returns what the
// callback logs per epoch, and the final validation's points: the row of
// best fitness (0.1·mAP50 + 0.9·mAP50-95, the first maximum), which is
// what best.pt holds, at the last step.
func expectedFromCSV(t *testing.T, file string) (epochs, final []point) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	best, bestFit := -1, math.Inf(-1)
	for i, row := range rows[1:] {
		vals := map[string]float64{}
		for j, col := range head {
			col = strings.TrimSpace(col)
			v, err := strconv.ParseFloat(strings.TrimSpace(row[j]), 64)
			if err != nil {
				t.Fatal(err)
			}
			vals[col] = v
			if col == "epoch" || col == "time" {
				continue
			}
			name := strings.ReplaceAll(strings.ReplaceAll(col, "(", ""), ")", "")
			epochs = append(epochs, point{name, int64(i), v})
		}
		if fit := 0.1*vals["metrics/mAP50(B)"] + 0.9*vals["metrics/mAP50-95(B)"]; fit > bestFit {
			best, bestFit = i, fit
		}
	}
	last := int64(len(rows) - 2)
	for j, col := range head {
		if strings.HasPrefix(col, "metrics/") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rows[best+1][j]), 64)
			final = append(final, point{strings.ReplaceAll(strings.ReplaceAll(col, "(", ""), ")", ""), last, v})
		}
	}
	return epochs, final
}

func sortPoints(ps []point) {
	slices.SortFunc(ps, func(a, b point) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if a.step != b.step {
			return int(a.step - b.step)
		}
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
}

// TestBuildPlan_Genuine checks the plans of genuine Ultralytics 8.3.166
// runs (detect with a genuine small checkpoint as weights/best.pt, and
// segment) and of a longer synthetic run whose metrics are not all zero,
// against values computed here from their files.
func TestBuildPlan_Genuine(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"detect", func(t *testing.T) string { return synctest.WithWeights(t, "detect") }},
		{"segment-savejson", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "segment-savejson")
			if err := os.CopyFS(d, os.DirFS(filepath.Join(synctest.Fixtures(), "segment-savejson"))); err != nil {
				t.Fatal(err)
			}
			return d
		}},
		{"synthetic", func(t *testing.T) string { return synctest.SynthRun(t, 7, 0, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) { checkPlan(t, tc.dir(t)) })
	}
}

func checkPlan(t *testing.T, dir string) {
	run := open(t, dir)
	p, err := mlflow.BuildPlan(context.Background(), run, mlflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Experiment != "/home/trainer/runs" || p.RunName != run.Info.Name || p.RunName == "" {
		t.Errorf("experiment %q run %q, want args.project and args.name", p.Experiment, p.RunName)
	}
	if p.Status != filestore.Finished {
		t.Errorf("status %v", p.Status)
	}
	if run.Info.StartedAt == nil || p.Start.UnixMilli() != run.Info.StartedAt.UnixMilli() || !p.End.After(p.Start) {
		t.Errorf("start %v end %v, run started %v", p.Start, p.End, run.Info.StartedAt)
	}

	// Metrics: every results.csv column but epoch and time, per epoch at
	// step epoch-1, then the final validation's second point.
	epochs, final := expectedFromCSV(t, filepath.Join(dir, "results.csv"))
	want := append(slices.Clone(epochs), final...)
	nonzero := false
	for _, f := range final {
		nonzero = nonzero || f.v != 0
	}
	t.Logf("%d epoch points, %d final points (any non-zero: %v)", len(epochs), len(final), nonzero)
	var got []point
	for _, m := range planPoints(t, p) {
		if err := filestore.ValidateKey("metric", m.Key); err != nil {
			t.Errorf("plan holds a name MLflow refuses: %v", err)
		}
		got = append(got, point{m.Key, m.Step, m.Value})
	}
	sortPoints(got)
	sortPoints(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metric points:\n got %v\nwant %v", got, want)
	}
	// The final validation comes last, at the last step, at the end time.
	tail := planPoints(t, p)[len(planPoints(t, p))-len(final):]
	for _, m := range tail {
		if !strings.HasPrefix(m.Key, "metrics/") || m.Step != run.Epochs()-1 || m.Timestamp != p.End.UnixMilli() {
			t.Errorf("final point %+v", m)
		}
	}
	// Within an epoch, the train-epoch-end call (lr, train losses) comes
	// before the fit-epoch-end call (metrics, val losses), times in order.
	for i := 1; i < len(planPoints(t, p)); i++ {
		if planPoints(t, p)[i].Timestamp < planPoints(t, p)[i-1].Timestamp {
			t.Errorf("point %d logged before the one before it", i)
		}
	}
	if k := planPoints(t, p)[0].Key; !strings.HasPrefix(k, "lr/") {
		t.Errorf("first point %q, want lr/pg0 (on_train_epoch_end logs trainer.lr first)", k)
	}

	// Params: every args.yaml key, in order, as Python's str().
	args, err := os.ReadFile(filepath.Join(dir, "args.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(string(args)), "\n") {
		keys = append(keys, line[:strings.Index(line, ":")])
	}
	params := map[string]string{}
	var order []string
	for _, kv := range p.Params {
		params[kv.Key] = kv.Value
		order = append(order, kv.Key)
	}
	if !slices.Equal(order, keys) {
		t.Errorf("param keys %v\nwant %v", order, keys)
	}
	// These runs' args are scalars, whose Python str() is the YAML text
	// but for null, true and false.
	for _, line := range strings.Split(strings.TrimSpace(string(args)), "\n") {
		k, text, _ := strings.Cut(line, ": ")
		want := map[string]string{"null": "None", "true": "True", "false": "False"}[text]
		if want == "" {
			want = text
		}
		if params[k] != want {
			t.Errorf("param %s = %q, want %q", k, params[k], want)
		}
	}

	// Tags.
	tags := map[string]string{}
	for _, tg := range p.Tags {
		tags[tg.Key] = tg.Value
	}
	if tags[mlflow.TagRunID] != run.RunID() || tags["mlflow.runName"] != p.RunName || tags["mlflow.source.type"] != "LOCAL" {
		t.Errorf("tags %v", tags)
	}
	if _, ok := tags["mlflow.user"]; ok {
		t.Error("mlflow.user set although the archive does not know the user")
	}

	// Artifacts: weights/ first, then the top-level png/jpg/csv/pt/yaml
	// files of the run directory, listed here from the directory.
	var wantArts []string
	if ws, _ := os.ReadDir(filepath.Join(dir, "weights")); len(ws) > 0 {
		for _, w := range ws {
			wantArts = append(wantArts, "weights/"+w.Name())
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch filepath.Ext(e.Name()) {
		case ".png", ".jpg", ".csv", ".pt", ".yaml":
			if !e.IsDir() {
				wantArts = append(wantArts, e.Name())
			}
		}
	}
	var gotArts []string
	for _, a := range p.Artifacts {
		gotArts = append(gotArts, a.Path)
		if a.Blob == "" || a.Size <= 0 {
			t.Errorf("artifact %+v without content", a)
		}
	}
	if !slices.Equal(gotArts, wantArts) {
		t.Errorf("artifacts %v\nwant %v", gotArts, wantArts)
	}
}

func TestBuildPlan_Options(t *testing.T) {
	run := open(t, "detect")
	p, err := mlflow.BuildPlan(context.Background(), run, mlflow.Options{Experiment: "exp", RunName: "r", User: "u", SourceName: "train.py"})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range p.Tags {
		tags[tg.Key] = tg.Value
	}
	if p.Experiment != "exp" || p.RunName != "r" || tags["mlflow.runName"] != "r" || tags["mlflow.user"] != "u" || tags["mlflow.source.name"] != "train.py" {
		t.Errorf("plan %q %q tags %v", p.Experiment, p.RunName, tags)
	}
	run.Info.Project = ""
	for v, want := range map[string]string{"8.3.166": "/Shared/Ultralytics", "8.1.47": "/Shared/YOLOv8"} {
		p, err := mlflow.BuildPlan(context.Background(), run, mlflow.Options{Version: v})
		if err != nil || p.Experiment != want {
			t.Errorf("version %s: experiment %q, %v; want %q", v, p.Experiment, err, want)
		}
	}
}

func TestBuildPlan_Unfinished(t *testing.T) {
	run := open(t, "detect")
	for status, want := range map[string]filestore.Status{schemas.StatusInterrupted: filestore.Killed, schemas.StatusRunning: filestore.Running} {
		run.Info.Status = status
		p, err := mlflow.BuildPlan(context.Background(), run, mlflow.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != want || len(p.Artifacts) != 0 {
			t.Errorf("%s: status %v, %d artifacts; want %v and none (train end never ran)", status, p.Status, len(p.Artifacts), want)
		}
		for _, m := range planPoints(t, p) {
			if m.Step > 2 {
				t.Errorf("%s: point %+v", status, m)
			}
		}
		if n := len(planPoints(t, p)); n != 3*13 {
			t.Errorf("%s: %d points, want 39 (3 epochs of 13 metrics, no final validation)", status, n)
		}
	}
	run.Info.Producer = schemas.ProducerYOLOv5
	if _, err := mlflow.BuildPlan(context.Background(), run, mlflow.Options{}); err == nil {
		t.Error("a YOLOv5 run was planned")
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{"metrics/mAP50-95(B)": "metrics/mAP50-95B", "metrics/precision(M)": "metrics/precisionM", "train/box_loss": "train/box_loss"} {
		if got := mlflow.Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBuildPlan_IntoFileStore writes a plan into an MLflow file store the
// way the callback's calls would have (one metric file per key, points
// in logging order), reads the store back, and finds the plan.
func TestBuildPlan_IntoFileStore(t *testing.T) {
	run := open(t, synctest.WithWeights(t, "detect"))
	p, err := mlflow.BuildPlan(context.Background(), run, mlflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := filestore.Create(filepath.Join(t.TempDir(), "mlruns"), p.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	exp, err := store.CreateExperiment(p.Experiment, p.Start)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.CreateRun(filestore.RunInfo{ExperimentID: exp.ID, RunName: p.RunName, StartTime: p.Start.UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range p.Params {
		if err := w.LogParam(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	for _, tg := range p.Tags {
		if err := w.SetTag(tg.Key, tg.Value); err != nil {
			t.Fatal(err)
		}
	}
	hist := map[string][]filestore.Metric{}
	for _, m := range planPoints(t, p) {
		hist[m.Key] = append(hist[m.Key], m)
	}
	for k, h := range hist {
		if err := w.WriteMetric(k, h); err != nil {
			t.Fatal(err)
		}
	}
	var digests []string
	for _, a := range p.Artifacts {
		digests = append(digests, a.Blob)
	}
	blobs, err := run.Extract(context.Background(), digests)
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	for _, a := range p.Artifacts {
		f, err := blobs.Open(a.Blob)
		if err != nil {
			t.Fatal(err)
		}
		err = w.WriteArtifact(a.Path, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(p.Status, p.End); err != nil {
		t.Fatal(err)
	}

	got, err := store.ReadRun(exp.ID, w.Info().RunID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Info.Status != filestore.Finished || got.Info.StartTime != p.Start.UnixMilli() || *got.Info.EndTime != p.End.UnixMilli() || got.Info.RunName != p.RunName {
		t.Errorf("info %+v", got.Info)
	}
	if len(got.Params) != len(p.Params) || got.Tags[mlflow.TagRunID] != run.RunID() {
		t.Errorf("%d params (want %d), tags %v", len(got.Params), len(p.Params), got.Tags)
	}
	if fmt.Sprint(got.Metrics) != fmt.Sprint(hist) {
		t.Errorf("metrics read back differ:\n got %v\nwant %v", got.Metrics, hist)
	}
	arts, err := store.Artifacts(exp.ID, w.Info().RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != len(p.Artifacts) {
		t.Errorf("%d artifacts read back, want %d", len(arts), len(p.Artifacts))
	}
}

// planPoints gathers the plan's points (Points generates them).
func planPoints(t testing.TB, p *mlflow.Plan) []filestore.Metric {
	t.Helper()
	var out []filestore.Metric
	if err := p.Points(context.Background(), func(ms []filestore.Metric) error {
		out = append(out, ms...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
