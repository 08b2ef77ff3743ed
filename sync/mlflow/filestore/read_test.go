package filestore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plant writes a file into the store behind the writer's back.
func plant(t *testing.T, s *Store, rel, content string) {
	t.Helper()
	p := filepath.Join(s.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Each malformed entry gives one line that names the file at fault.
func TestRead_Malformed(t *testing.T) {
	run := "1/" + runID + "/"
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"metric fields", run + "metrics/loss", "1700000001000 0.5 0 extra\n", "4 fields"},
		{"metric one field", run + "metrics/loss", "1700000001000\n", "1 fields"},
		{"metric double space", run + "metrics/loss", "1 0.5  0\n", "4 fields"},
		{"metric timestamp", run + "metrics/loss", "soon 0.5 0\n", "timestamp"},
		{"metric value", run + "metrics/loss", "1 half 0\n", "value"},
		{"metric hex value", run + "metrics/loss", "1 0x1p-2 0\n", "value"},
		{"metric step", run + "metrics/loss", "1 0.5 1.5\n", "step"},
		{"metric empty", run + "metrics/loss", "", "no data found"},
		{"metric key", run + "metrics/mAP50(B)", "1 0.5 0\n", "invalid metric name"},
		{"param not utf-8", run + "params/lr0", "\xff\xfe", "not UTF-8"},
		{"run meta yaml", run + "meta.yaml", "run_id: [unclosed\n", "malformed run meta"},
		{"run meta status", run + "meta.yaml", "experiment_id: '1'\nrun_id: " + runID + "\nstatus: 9\n", "unknown status 9"},
		{"run meta other run", run + "meta.yaml", "experiment_id: '1'\nrun_id: ffffffffffffffffffffffffffffffff\nstatus: 3\n", "records run id"},
		{"run meta other experiment", run + "meta.yaml", "experiment_id: '7'\nrun_id: " + runID + "\n", "records experiment id"},
		{"run meta not a map", run + "meta.yaml", "- a\n- b\n", "malformed run meta"},
		{"run meta huge", run + "meta.yaml", strings.Repeat("#", 70<<10), "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			w := writeRun(t, s)
			if err := w.Finish(Finished, t0); err != nil {
				t.Fatal(err)
			}
			plant(t, s, tc.file, tc.content)
			_, err := s.ReadRun("1", runID)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, filepath.Join(s.Dir, filepath.FromSlash(tc.file))) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q: want one line naming %s and saying %q", msg, tc.file, tc.want)
			}
		})
	}
}

func TestRead_LegacyValues(t *testing.T) {
	s := newStore(t)
	writeRun(t, s)
	// Older MLflow wrote integer experiment ids and 2-field metric lines
	// (step 0); a missing status reads as RUNNING, a missing lifecycle
	// stage as active (_read_persisted_run_info_dict).
	plant(t, s, "1/meta.yaml", "artifact_location: x\nexperiment_id: 1\nname: old\n")
	plant(t, s, "1/"+runID+"/meta.yaml", "experiment_id: 1\nrun_uuid: "+runID+"\nend_time: null\n")
	plant(t, s, "1/"+runID+"/metrics/loss", "1700000001000 0.5\n  1700000002000 -inf 3  \n")
	r, err := s.ReadRun("1", runID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Info.Status != Running || r.Info.LifecycleStage != Active || r.Info.RunID != runID || r.Info.EndTime != nil {
		t.Errorf("info = %+v", r.Info)
	}
	if pts := r.Metrics["loss"]; len(pts) != 2 || pts[0].Step != 0 || pts[1].Step != 3 || pts[1].Value > -1e308 {
		t.Errorf("loss = %+v", pts)
	}
	if e, err := s.Experiment("1"); err != nil || e.ID != "1" || e.Name != "old" {
		t.Errorf("experiment = %+v, %v", e, err)
	}
}

func TestRead_RefusesLinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, link string }{
		{"param", "params/stolen"},
		{"tag dir", "tags/sub"},
		{"metric", "metrics/loss"},
		{"meta", "meta.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			w := writeRun(t, s)
			p := filepath.Join(w.Dir(), filepath.FromSlash(tc.link))
			os.Remove(p)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, p); err != nil {
				t.Skip("symlinks unavailable:", err)
			}
			_, err := s.ReadRun("1", runID)
			if err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("err = %v, want a refusal of the link", err)
			}
		})
	}
	t.Run("artifact", func(t *testing.T) {
		s := newStore(t)
		w := writeRun(t, s)
		if err := os.Symlink(outside, filepath.Join(w.Dir(), "artifacts", "best.pt")); err != nil {
			t.Skip("symlinks unavailable:", err)
		}
		if _, err := s.Artifacts("1", runID); err == nil {
			t.Error("Artifacts listed a link")
		}
		if _, err := s.OpenArtifact("1", runID, "best.pt"); err == nil {
			t.Error("OpenArtifact opened a link")
		}
		if _, err := s.OpenArtifact("1", runID, "../meta.yaml"); err == nil {
			t.Error("OpenArtifact opened ../meta.yaml")
		}
	})
}

func TestRead_Bounds(t *testing.T) {
	s := newStore(t)
	writeRun(t, s)
	s.Limits.Entries = 3
	for i := 0; i < 4; i++ {
		plant(t, s, "1/"+runID+"/params/p"+string(rune('a'+i)), "x")
	}
	if _, err := s.ReadRun("1", runID); err == nil || !strings.Contains(err.Error(), "more than 3") {
		t.Errorf("err = %v, want the entry limit", err)
	}
	s2 := newStore(t)
	writeRun(t, s2)
	s2.Limits.Depth = 2
	plant(t, s2, "1/"+runID+"/tags/a/b/c/d", "x")
	if _, err := s2.ReadRun("1", runID); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("err = %v, want the depth limit", err)
	}
}

func TestRead_NotFound(t *testing.T) {
	s := newStore(t)
	if _, err := s.ReadRun("1", runID); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing run: %v", err)
	}
	if _, err := s.Experiment("42"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing experiment: %v", err)
	}
	// A directory that is not a run (no meta.yaml) is skipped by Runs,
	// as MLflow skips it.
	plant(t, s, "1/"+runID+"/artifacts/x", "x")
	if infos, err := s.Runs("1"); err != nil || len(infos) != 0 {
		t.Errorf("Runs = %v, %v", infos, err)
	}
}
