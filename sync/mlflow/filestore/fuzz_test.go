package filestore

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseMetricLine checks that any line parses or fails without a
// panic, and that what parses writes back to a line that parses the same.
func FuzzParseMetricLine(f *testing.F) {
	for _, s := range []string{"1700000001000 6.57574 0\n", "1 nan 2", "1 -inf", "1 1e-05 3", "x y z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseMetricLine("k", line)
		if err != nil {
			return
		}
		again, err := ParseMetricLine("k", MetricLine(m))
		if err != nil {
			t.Fatalf("%q parsed, its rewrite %q does not: %v", line, MetricLine(m), err)
		}
		if again.Timestamp != m.Timestamp || again.Step != m.Step || (again.Value != m.Value && m.Value == m.Value) {
			t.Fatalf("%q: %+v rewritten reads %+v", line, m, again)
		}
	})
}

// FuzzReadRun plants fuzzed run meta.yaml, metric, param and tag files
// into a store and reads the run: an error or a run, never a panic.
func FuzzReadRun(f *testing.F) {
	f.Add([]byte("experiment_id: '1'\nrun_id: 0123456789abcdef0123456789abcdef\nstatus: 3\nstart_time: 1\nend_time: 2\n"),
		[]byte("1 0.5 0\n2 0.25 1\n"), []byte("0.01"), []byte("detect"))
	f.Add([]byte("experiment_id: 1\nrun_uuid: 0123456789abcdef0123456789abcdef\n"), []byte("1 nan\n"), []byte(""), []byte("\xff"))
	f.Add([]byte("&a [*a, *a]"), []byte("1"), []byte("x"), []byte("y"))
	// One store per fuzzing process (made with fsyncs, slow); each input
	// replaces the run's files, written without them.
	s, err := Create(filepath.Join(f.TempDir(), "mlruns"), t0)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.createExperiment("1", "e", t0); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, meta, metric, param, tag []byte) {
		if err := os.RemoveAll(filepath.Join(s.Dir, "1", runID)); err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(s.Dir, "1", runID)
		for rel, b := range map[string][]byte{"meta.yaml": meta, "metrics/train/loss": metric, "params/lr0": param, "tags/mlflow.user": tag} {
			p := filepath.Join(base, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.ReadRun("1", runID)
		if err == nil && (r.Info.RunID != runID || r.Params["lr0"] != string(param)) {
			t.Fatalf("read %+v", r)
		}
		_, _ = s.Runs("1")
		_, _ = s.Experiments()
	})
}
