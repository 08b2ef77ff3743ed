package filestore

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	t0    = time.UnixMilli(1700000000000)
	runID = "0123456789abcdef0123456789abcdef"
)

// newStore creates a store with experiment "1" named as Ultralytics names
// it (args.project), the id fixed so the golden files can name it.
func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Create(filepath.Join(t.TempDir(), "mlruns"), t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.createExperiment("1", "/home/trainer/runs", t0); err != nil {
		t.Fatal(err)
	}
	return s
}

func writeRun(t *testing.T, s *Store) *RunWriter {
	t.Helper()
	w, err := s.CreateRun(RunInfo{RunID: runID, RunName: "detect", ExperimentID: "1", UserID: "trainer", StartTime: 1700000000123})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func golden(t *testing.T, s *Store, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "@ROOT@", filepath.ToSlash(s.Dir))
}

func readStore(t *testing.T, s *Store, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The golden files are written by hand from MLflow's code (file_store.py
// at 001cc178): _create_experiment_with_id writes dict(experiment) minus
// tags; create_run writes _make_persisted_run_info_dict(run_info) plus
// deleted_time None, update_run_info rewrites it without deleted_time
// (_overwrite_run_info); write_yaml (file_utils.py) is yaml.dump(...,
// default_flow_style=False, sort_keys=True, Dumper=SafeDumper), which
// single-quotes the empty string and "1"; status is RunStatus's integer
// (service.proto: RUNNING=1, FINISHED=3), source_type SourceType.LOCAL=4.
// _log_run_metric appends f"{metric.timestamp} {metric.value} {metric.step}\n".
func TestStore_Golden(t *testing.T) {
	s := newStore(t)
	if got, want := readStore(t, s, "1/meta.yaml"), golden(t, s, "experiment.yaml"); got != want {
		t.Errorf("experiment meta.yaml:\n%s\nwant:\n%s", got, want)
	}
	w := writeRun(t, s)
	if got, want := readStore(t, s, "1/"+runID+"/meta.yaml"), golden(t, s, "run-created.yaml"); got != want {
		t.Errorf("created run meta.yaml:\n%s\nwant:\n%s", got, want)
	}
	pts := []Metric{{"train/box_loss", 6.57574, 1700000001000, 0}, {"train/box_loss", 1e-05, 1700000002000, 1},
		{"train/box_loss", 0, 1700000003000, 2}, {"train/box_loss", math.NaN(), 1700000004000, 2}}
	if err := w.WriteMetric("train/box_loss", pts); err != nil {
		t.Fatal(err)
	}
	if got, want := readStore(t, s, "1/"+runID+"/metrics/train/box_loss"), golden(t, s, "metric-train-box_loss"); got != want {
		t.Errorf("metric file:\n%q\nwant\n%q", got, want)
	}
	if err := w.Finish(Finished, time.UnixMilli(1700000099456)); err != nil {
		t.Fatal(err)
	}
	if got, want := readStore(t, s, "1/"+runID+"/meta.yaml"), golden(t, s, "run-finished.yaml"); got != want {
		t.Errorf("finished run meta.yaml:\n%s\nwant:\n%s", got, want)
	}
	if got := readStore(t, s, "1/"+runID+"/tags/mlflow.runName"); got != "detect" {
		t.Errorf("mlflow.runName tag = %q, want detect (no newline)", got)
	}
	if got := readStore(t, s, "0/meta.yaml"); !strings.Contains(got, "name: Default\n") || !strings.Contains(got, "experiment_id: '0'\n") {
		t.Errorf("default experiment meta.yaml:\n%s", got)
	}
	if fi, err := os.Stat(filepath.Join(s.Dir, ".trash")); err != nil || !fi.IsDir() {
		t.Errorf(".trash: %v", err)
	}
}

func TestStore_RoundTrip(t *testing.T) {
	s := newStore(t)
	w := writeRun(t, s)
	params := map[string]string{"lr0": "0.01", "device": "cpu", "classes": "None", "nested/key": "[0, 1]", "empty": ""}
	for k, v := range params {
		if err := w.LogParam(k, v); err != nil {
			t.Fatal(err)
		}
	}
	tags := map[string]string{TagUser: "trainer", TagSourceName: "yoloarchive", TagSourceType: "LOCAL", "yoloarchive.run_id": runID}
	for k, v := range tags {
		if err := w.SetTag(k, v); err != nil {
			t.Fatal(err)
		}
	}
	tags[TagRunName] = "detect"
	metrics := map[string][]Metric{
		"metrics/mAP50-95B": {{"metrics/mAP50-95B", 0.25, 1, 0}, {"metrics/mAP50-95B", 0.5, 2, 1}, {"metrics/mAP50-95B", 0.75, 3, 1}},
		"lr/pg0":            {{"lr/pg0", 1.429e-05, 5, 0}, {"lr/pg0", math.Inf(1), 6, 1}, {"lr/pg0", -1e300, 7, 2}},
	}
	for k, pts := range metrics {
		if err := w.WriteMetric(k, pts); err != nil {
			t.Fatal(err)
		}
	}
	weights := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)
	arts := map[string][]byte{"weights/best.pt": weights, "results.csv": []byte("epoch\n1\n")}
	for p, b := range arts {
		if err := w.WriteArtifact(p, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(Finished, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	again, err := Open(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	exps, err := again.Experiments()
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 2 || exps[0].ID != "0" || exps[1].Name != "/home/trainer/runs" {
		t.Fatalf("experiments = %+v", exps)
	}
	infos, err := again.Runs("1")
	if err != nil || len(infos) != 1 {
		t.Fatalf("runs = %+v, %v", infos, err)
	}
	r, err := again.ReadRun("1", runID)
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(time.Minute).UnixMilli()
	want := RunInfo{RunID: runID, RunName: "detect", ExperimentID: "1", UserID: "trainer", Status: Finished,
		StartTime: 1700000000123, EndTime: &end, ArtifactURI: w.Info().ArtifactURI, LifecycleStage: Active}
	if !reflect.DeepEqual(r.Info, want) {
		t.Errorf("info = %+v, want %+v", r.Info, want)
	}
	if !reflect.DeepEqual(r.Params, params) {
		t.Errorf("params = %v, want %v", r.Params, params)
	}
	if !reflect.DeepEqual(r.Tags, tags) {
		t.Errorf("tags = %v, want %v", r.Tags, tags)
	}
	if !reflect.DeepEqual(r.Metrics, metrics) {
		t.Errorf("metrics = %v, want %v", r.Metrics, metrics)
	}
	list, err := again.Artifacts("1", runID)
	if err != nil {
		t.Fatal(err)
	}
	if wantList := []Artifact{{"results.csv", 8}, {"weights/best.pt", int64(len(weights))}}; !reflect.DeepEqual(list, wantList) {
		t.Errorf("artifacts = %v, want %v", list, wantList)
	}
	rc, err := again.OpenArtifact("1", runID, "weights/best.pt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, weights) {
		t.Error("weights/best.pt differs after the round trip")
	}
}

func TestRunWriter_ParamImmutable(t *testing.T) {
	s := newStore(t)
	w := writeRun(t, s)
	if err := w.LogParam("lr0", "0.01"); err != nil {
		t.Fatal(err)
	}
	if err := w.LogParam("lr0", "0.01"); err != nil {
		t.Errorf("same value again: %v", err)
	}
	if err := w.LogParam("lr0", "0.02"); err == nil || !strings.Contains(err.Error(), "changing param values is not allowed") {
		t.Errorf("changed value: err = %v", err)
	}
	if err := w.LogParam("long", strings.Repeat("x", MaxParamValueLength+1)); err == nil {
		t.Error("a param value over 6000 characters was accepted")
	}
	if err := w.LogParam("ok", strings.Repeat("é", MaxParamValueLength)); err != nil {
		t.Errorf("6000 two-byte characters: %v", err)
	}
}

func TestValidateKey(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"train/box_loss", true}, {"metrics/mAP50-95B", true}, {"lr/pg0", true}, {"a b.c-d_e", true}, {"日本語", true}, {"x²", true},
		{"metrics/mAP50-95(B)", false}, {"", false}, {".", false}, {"..", false}, {"../x", false}, {"a/../b", false},
		{"/a", false}, {"a//b", false}, {"a/", false}, {"./a", false}, {"a/.", false}, {"a\\b", false}, {"a:b", false},
		{"..a", false}, {strings.Repeat("k", 250), true}, {strings.Repeat("k", 251), false},
	} {
		if err := ValidateKey("metric", tc.key); (err == nil) != tc.ok {
			t.Errorf("ValidateKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
	}
}

func TestWrite_RefusesEscapes(t *testing.T) {
	s := newStore(t)
	w := writeRun(t, s)
	for _, p := range []string{"../x", "/etc/passwd", "a/../../b", "a\\b", "", "./a", "a//b"} {
		if err := w.WriteArtifact(p, strings.NewReader("x")); err == nil {
			t.Errorf("artifact %q accepted", p)
		}
	}
	if err := w.SetTag("../../escape", "x"); err == nil {
		t.Error("tag ../../escape accepted")
	}
	if _, err := s.CreateRun(RunInfo{RunID: "../x", ExperimentID: "1"}); err == nil {
		t.Error("run id ../x accepted")
	}
	if _, err := s.CreateRun(RunInfo{ExperimentID: "../1"}); err == nil {
		t.Error("experiment id ../1 accepted")
	}
	if err := s.writeFile("../outside", []byte("x")); err == nil {
		t.Error("writeFile ../outside accepted")
	}
	// A link planted inside the store that points outside: os.Root
	// refuses to follow it for writes.
	out := t.TempDir()
	if err := os.Symlink(out, filepath.Join(w.Dir(), "artifacts", "out")); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if err := w.WriteArtifact("out/x", strings.NewReader("x")); err == nil {
		t.Error("a write through a link out of the store succeeded")
	}
	if _, err := os.Stat(filepath.Join(out, "x")); err == nil {
		t.Error("a file was written outside the store")
	}
}

func TestWrite_Atomic_NoTempLeft(t *testing.T) {
	s := newStore(t)
	w := writeRun(t, s)
	failing := io.MultiReader(strings.NewReader("partial"), errReader{})
	if err := w.WriteArtifact("weights/best.pt", failing); err == nil {
		t.Fatal("a failing reader gave no error")
	}
	ents, _ := os.ReadDir(filepath.Join(w.Dir(), "artifacts", "weights"))
	if len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestCreateExperiment(t *testing.T) {
	s := newStore(t)
	e, err := s.CreateExperiment("yolo", t0)
	if err != nil {
		t.Fatal(err)
	}
	if ValidateExperimentID(e.ID) != nil || len(e.ID) != 18 || e.ID[0] == '0' {
		t.Errorf("id %q", e.ID)
	}
	if _, err := s.CreateExperiment("yolo", t0); err == nil {
		t.Error("a second experiment of the same name was created")
	}
	if _, err := s.CreateExperiment("", t0); err == nil {
		t.Error("an empty name was accepted")
	}
}

func TestStatus(t *testing.T) {
	for s, n := range map[Status]string{Running: "RUNNING", Scheduled: "SCHEDULED", Finished: "FINISHED", Failed: "FAILED", Killed: "KILLED"} {
		if s.String() != n {
			t.Errorf("%d.String() = %q", s, s.String())
		}
		if got, err := ParseStatus(n); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %v, %v", n, got, err)
		}
	}
	if _, err := ParseStatus("DONE"); err == nil {
		t.Error("ParseStatus(DONE) accepted")
	}
}

// Names YAML could read as something else are quoted (single quotes, as
// PyYAML's safe_dump quotes them) and read back unchanged.
func TestStore_YAMLQuoting(t *testing.T) {
	s := newStore(t)
	names := []string{"yes", "null", "1.5", "0x10", "2024-01-01", "a: b", "# not a comment", "it's", " padded ", "日本語", "~", "[0]"}
	for _, n := range names {
		if _, err := s.CreateExperiment(n, t0); err != nil {
			t.Fatalf("%q: %v", n, err)
		}
	}
	exps, err := s.Experiments()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range exps {
		got[e.Name] = true
		b := readStore(t, s, e.ID+"/meta.yaml")
		if e.Name == "null" && !strings.Contains(b, "name: 'null'\n") {
			t.Errorf("meta.yaml of %q:\n%s", e.Name, b)
		}
	}
	for _, n := range names {
		if !got[n] {
			t.Errorf("experiment %q did not read back (read %v)", n, got)
		}
	}
}

// TestMetricFile_AbortKeepsTheOld: a history written a point at a time
// replaces the metric's file only on Commit: an aborted one (or a point of
// another metric) leaves the old history and no temporary file; a
// committed one equals WriteMetric's.
func TestMetricFile_AbortKeepsTheOld(t *testing.T) {
	s := newStore(t)
	w := writeRun(t, s)
	old := []Metric{{Key: "lr/pg0", Value: 0.1, Timestamp: 1, Step: 0}}
	if err := w.WriteMetric("lr/pg0", old); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(w.Dir(), MetricsDir, "lr", "pg0")
	want, _ := os.ReadFile(file)
	f, err := w.CreateMetric("lr/pg0")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Add(Metric{Key: "lr/pg0", Value: 0.2, Timestamp: 2, Step: 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(Metric{Key: "lr/pg1", Value: 0.2, Timestamp: 2, Step: 1}); err == nil {
		t.Error("a point of another metric was taken")
	}
	f.Abort()
	f.Abort()
	if err := f.Commit(); err == nil {
		t.Error("an aborted history was committed")
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, want) {
		t.Errorf("after Abort the file holds %q, want %q", got, want)
	}
	if ents, _ := os.ReadDir(filepath.Dir(file)); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	pts := []Metric{{Key: "lr/pg0", Value: 0.3, Timestamp: 3, Step: 0}, {Key: "lr/pg0", Value: math.NaN(), Timestamp: 4, Step: 1}}
	if f, err = w.CreateMetric("lr/pg0"); err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		if err := f.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	if err := w.WriteMetric("lr/pg0", pts); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(file); !bytes.Equal(got, again) || string(got) != "3 0.3 0\n4 nan 1\n" {
		t.Errorf("committed %q, WriteMetric %q", got, again)
	}
}
