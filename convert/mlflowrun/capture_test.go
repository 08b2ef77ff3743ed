package mlflowrun_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
	_ "github.com/yoloarchive/yoloarchive/convert/mlflowrun"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// fixtureRun is the run of testdata/mlruns (written by
// make_mlruns.py from the genuine 3-epoch detect run).
const (
	fixtureExp = "123456789012345678"
	fixtureRun = "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
)

// copyStore copies the fixture store to dir/mlruns.
func copyStore(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, "mlruns")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "mlruns"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func captureOpen(t *testing.T, src string) *ysync.Run {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "run.tar.zst")
	if _, err := convert.Capture(context.Background(), src, dst, convert.Options{Workers: 2}); err != nil {
		t.Fatalf("capture %s: %v", src, err)
	}
	r, err := ysync.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	r.Scalars = synctest.Scalars(t, r) // streamed, not held
	t.Cleanup(func() { r.Close() })
	return r
}

// tables describes a captured run's tables for comparison, leaving out
// what names the store rather than the run: the MLflow run's own id
// (session id), its meta.yaml (a session file) and the replay's run id
// tag.
func tables(r *ysync.Run) string {
	var lines []string
	i := r.Info
	lines = append(lines, fmt.Sprintf("run %s project %q name %q task %s status %s epochs %d/%v start %v end %v producer %s", i.RunID, i.Project, i.Name, i.Task, i.Status, i.EpochsCompleted, deref(i.EpochsPlanned), i.StartedAt, i.EndedAt, i.Producer))
	for _, p := range r.Params {
		if p.Section == "mlflow:tags" && p.Key == mlflow.TagRunID {
			continue
		}
		lines = append(lines, fmt.Sprintf("param %s/%s %d %s %q", p.Section, p.Key, p.Position, p.Type, p.Text))
	}
	for _, s := range r.Scalars {
		lines = append(lines, fmt.Sprintf("scalar %s epoch %d step %v at %v = %v (%s:%d)", s.Metric, s.Epoch, deref(s.Step), s.WallTime, s.Value, s.Origin, s.Line))
	}
	for _, s := range r.Summary {
		lines = append(lines, fmt.Sprintf("summary %s = %v exact %v epoch %v", s.Key, s.Value, s.Exact, deref(s.Epoch)))
	}
	for _, a := range r.Assets {
		if a.Role != schemas.RoleSessionFile {
			lines = append(lines, fmt.Sprintf("asset %s %s %s %d", a.FileName, a.Role, a.Blob, a.Size))
		}
	}
	for _, im := range r.Images {
		lines = append(lines, fmt.Sprintf("image %s %s %s %dx%d", im.FileName, im.Role, im.Blob, im.Width, im.Height))
	}
	for _, g := range r.Gaps {
		lines = append(lines, "gap "+g.Item)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestCapture_MLflowStore: a run of an MLflow file store as Ultralytics'
// callback leaves it becomes an archive with the values exactly as
// logged (names with their parentheses back, step+1 as the epoch, the
// final validation as exact single values, params typed where str()
// prints them back the same); capture → sync --to mlflow-dir → capture
// gives the same tables, and the run id survives.
func TestCapture_MLflowStore(t *testing.T) {
	store := copyStore(t, t.TempDir())
	src := filepath.Join(store, fixtureExp, fixtureRun)
	if k, err := convert.Detect(src); err != nil || k != schemas.SourceMLflowRun {
		t.Fatalf("Detect: %q %v", k, err)
	}
	if _, err := convert.Detect(store); err == nil || !strings.Contains(err.Error(), "--recursive") {
		t.Errorf("Detect of the store root: %v", err)
	}
	first := captureOpen(t, src)
	if first.Info.SourceKind != schemas.SourceMLflowRun || first.Info.Status != schemas.StatusFinished || first.Info.EpochsCompleted != 3 || first.Info.Task != "detect" {
		t.Fatalf("run row: %+v", first.Info)
	}
	byKey := map[string]float64{}
	for _, s := range first.Scalars {
		if s.Epoch == 2 {
			byKey[s.Metric] = s.Value
		}
	}
	// results.csv epoch 2: train/box_loss 3.62866, lr/pg0 2.87229e-05.
	if byKey["train/box_loss"] != 3.62866 || byKey["lr/pg0"] != 2.87229e-05 || len(first.Summary) != 4 {
		t.Fatalf("epoch 2: %v; %d final values", byKey, len(first.Summary))
	}
	if _, ok := byKey["metrics/mAP50-95(B)"]; !ok {
		t.Fatalf("metric names not restored: %v", byKey)
	}
	typed := map[string]string{}
	for _, p := range first.Params {
		if p.Section == "args" {
			typed[p.Key] = p.Type + " " + p.Text
		}
	}
	for k, want := range map[string]string{"epochs": schemas.TypeInt + " 3", "lr0": schemas.TypeFloat + " 0.01", "time": schemas.TypeNull + " None",
		"save": schemas.TypeBool + " True", "name": schemas.TypeString + " detect", "freeze": schemas.TypeNull + " None"} {
		if typed[k] != want {
			t.Errorf("param %s: %q, want %q", k, typed[k], want)
		}
	}
	out := filepath.Join(t.TempDir(), "out", "mlruns")
	archive := filepath.Join(t.TempDir(), "first.tar.zst")
	if _, err := convert.Capture(context.Background(), src, archive, convert.Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	r := ysync.One(context.Background(), archive, mlflow.NewDir(out, mlflow.Options{}), ysync.BatchOptions{})
	if r.Status != ysync.StatusWritten {
		t.Fatal(r.Error)
	}
	second := captureOpen(t, filepath.Join(out, r.Output[len(out)+1:]))
	if a, b := tables(first), tables(second); a != b {
		t.Fatalf("capture → mlflow-dir → capture differs:\n%s\n---\n%s", a, b)
	}
	// The params files are byte for byte those the callback wrote.
	for _, k := range []string{"lr0", "time", "save_dir", "imgsz"} {
		a, _ := os.ReadFile(filepath.Join(src, "params", k))
		b, err := os.ReadFile(filepath.Join(out, r.Output[len(out)+1:], "params", k))
		if err != nil || string(a) != string(b) {
			t.Errorf("params/%s: %q then %q (%v)", k, a, b, err)
		}
	}
}

// TestCapture_MLflowMergedWithRunDir: when the MLflow run's save_dir is
// a run directory beside the store (runs/mlflow and runs/detect), the
// capture is the run directory's, with the MLflow run merged in as a
// session is (exact final values, the session's times).
func TestCapture_MLflowMergedWithRunDir(t *testing.T) {
	work := t.TempDir()
	runDir := filepath.Join(work, "runs", "detect")
	if err := os.CopyFS(runDir, os.DirFS(filepath.Join(synctest.Fixtures(), "detect"))); err != nil {
		t.Fatal(err)
	}
	store := copyStore(t, filepath.Join(work, "runs"))
	src := filepath.Join(store, fixtureExp, fixtureRun)
	// Training ran in work/ with the default project: save_dir relative.
	for _, f := range []string{filepath.Join(src, "params", "save_dir")} {
		if err := os.WriteFile(f, []byte("runs/detect"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args, err := os.ReadFile(filepath.Join(runDir, "args.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	args = []byte(strings.Replace(string(args), "save_dir: /home/trainer/runs/detect", "save_dir: runs/detect", 1))
	if err := os.WriteFile(filepath.Join(runDir, "args.yaml"), args, 0o644); err != nil {
		t.Fatal(err)
	}
	merged := captureOpen(t, src)
	alone := captureOpen(t, runDir)
	if merged.Info.SourceKind != schemas.SourceUltralyticsTrain || merged.RunID() != alone.RunID() {
		t.Fatalf("merged: kind %s run %s, the run directory alone %s", merged.Info.SourceKind, merged.RunID(), alone.RunID())
	}
	if merged.Info.SessionID != fixtureRun || merged.Info.TimeSource != "session" || merged.Info.StartedAt.UnixMilli() != 1752000000000 {
		t.Errorf("session: id %q, times from %q, start %v", merged.Info.SessionID, merged.Info.TimeSource, merged.Info.StartedAt)
	}
	exact := 0
	for _, s := range merged.Summary {
		if s.Exact && strings.HasPrefix(s.Key, "metrics/") {
			exact++
		}
	}
	if exact != 4 {
		t.Errorf("%d exact final metrics, want 4 (from the MLflow run)", exact)
	}
}
