package mlflow_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// storeState is runState of the runs of a file store, read back with
// filestore's own readers.
func storeState(t testing.TB, dir string) []string {
	t.Helper()
	s, err := filestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exps, err := s.Experiments()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range exps {
		infos, err := s.Runs(x.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			r, err := s.ReadRun(x.ID, info.RunID)
			if err != nil {
				t.Fatal(err)
			}
			end := "none"
			if r.Info.EndTime != nil {
				end = fmt.Sprint(*r.Info.EndTime)
			}
			lines := []string{fmt.Sprintf("run experiment %q name %q start %d end %s status %s", x.Name, r.Info.RunName, r.Info.StartTime, end, r.Info.Status)}
			for k, v := range r.Params {
				lines = append(lines, fmt.Sprintf("param %s = %q", k, v))
			}
			for k, v := range r.Tags {
				lines = append(lines, fmt.Sprintf("tag %s = %q", k, v))
			}
			for k, h := range r.Metrics {
				for _, m := range h {
					lines = append(lines, fmt.Sprintf("metric %s step %d at %d = %v", k, m.Step, m.Timestamp, m.Value))
				}
			}
			arts, err := s.Artifacts(x.ID, info.RunID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range arts {
				f, err := s.OpenArtifact(x.ID, info.RunID, a.Path)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.New()
				_, err = io.Copy(h, f)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, fmt.Sprintf("artifact %s %x", a.Path, h.Sum(nil)))
			}
			sort.Strings(lines)
			out = append(out, strings.Join(lines, "\n"))
		}
	}
	sort.Strings(out)
	return out
}

// TestDir_CallbackContract: sync --to mlflow-dir writes a file store
// holding exactly what the callback logs (read back with the store's
// readers), and a second sync, with or without a checkpoint, rewrites the
// same run: never a second one. --force makes a new run and retags the
// old.
func TestDir_CallbackContract(t *testing.T) {
	dir := synctest.WithWeights(t, "detect")
	archive := synctest.Capture(t, dir)
	p, err := mlflow.BuildPlan(context.Background(), open(t, dir), mlflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := planState(t, dir, p)
	out := filepath.Join(t.TempDir(), "mlruns")
	d := mlflow.NewDir(out, mlflow.Options{})
	for i := range 2 {
		r := ysync.One(context.Background(), archive, d, ysync.BatchOptions{})
		if r.Status != ysync.StatusWritten {
			t.Fatalf("sync %d: %s %s", i+1, r.Status, r.Error)
		}
		if r.RemoteID != mlflow.DirRunID(r.RunID) || !strings.HasSuffix(r.Output, r.RemoteID) {
			t.Errorf("sync %d: run %s at %s", i+1, r.RemoteID, r.Output)
		}
		got := storeState(t, out)
		if len(got) != 1 || got[0] != want {
			t.Fatalf("sync %d: the store holds\n%s\nwant\n%s", i+1, strings.Join(got, "\n---\n"), want)
		}
	}
	if r := ysync.One(context.Background(), archive, d, ysync.BatchOptions{Force: true}); r.Status != ysync.StatusWritten {
		t.Fatal(r.Error)
	}
	got := storeState(t, out)
	if len(got) != 2 || strings.Count(strings.Join(got, "\n"), "replaced:") != 1 {
		t.Fatalf("after --force: %d runs:\n%s", len(got), strings.Join(got, "\n---\n"))
	}
	if r := ysync.One(context.Background(), archive, d, ysync.BatchOptions{}); r.Status != ysync.StatusWritten {
		t.Fatal(r.Error)
	}
	if n := len(storeState(t, out)); n != 2 {
		t.Fatalf("a sync after --force made a run: %d", n)
	}
}
