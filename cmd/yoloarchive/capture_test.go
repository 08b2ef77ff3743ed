package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameSettingsRun writes a run directory with the detect fixture's
// args.yaml (every run of a backfill may have the same: default relative
// save_dir, the same tutorial settings) and a results.csv of the given
// rows, each a list of 14 values after the epoch.
func sameSettingsRun(t *testing.T, dir string, rows [][]float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	args, err := os.ReadFile(filepath.Join(fixtures, "detect", "args.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "args.yaml"), args, 0o644)
	var b strings.Builder
	b.WriteString("epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n")
	for e, row := range rows {
		fmt.Fprintf(&b, "%d", e+1)
		for _, v := range row {
			fmt.Fprintf(&b, ",%.6g", v)
		}
		b.WriteString("\n")
	}
	os.WriteFile(filepath.Join(dir, "results.csv"), []byte(b.String()), 0o644)
}

// rows returns n epochs of results whose values derive from seed.
func rows(seed, n int) [][]float64 {
	out := make([][]float64, n)
	for e := range out {
		out[e] = make([]float64, 14)
		for i := range out[e] {
			out[e][i] = float64((seed+1)*(e+1)*(i+3)%997) / 1000
		}
		out[e][0] = float64(e+1) * 30.5
	}
	return out
}

type captureLine struct {
	Source   string   `json:"source"`
	Status   string   `json:"status"`
	SameAs   string   `json:"same_as"`
	RunID    string   `json:"run_id"`
	Archive  string   `json:"archive"`
	Warnings []string `json:"warnings"`
}

func captureLines(t *testing.T, stdout string) map[string]captureLine {
	t.Helper()
	out := map[string]captureLine{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var c captureLine
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		out[filepath.Base(c.Source)] = c
	}
	return out
}

// TestCLI_CaptureSameSettings: 200 runs with the same args.yaml and other
// results are 200 runs: 200 archives of 200 ids, and the count says so.
func TestCLI_CaptureSameSettings(t *testing.T) {
	root := t.TempDir()
	const n = 200
	for i := 0; i < n; i++ {
		sameSettingsRun(t, filepath.Join(root, fmt.Sprintf("user%03d", i), "runs", "detect", "train"), rows(i, 3))
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, "capture", "-r", "-j", "2", "--out-dir", out, root)
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("captured %d of %d runs\n", n, n)) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	archives, _ := filepath.Glob(filepath.Join(out, "*.tar.zst"))
	if len(archives) != n {
		t.Errorf("%d archives, want %d", len(archives), n)
	}
}

// TestCLI_CaptureCopies: a run, its copy (cp -r: new times), a copy taken
// after the first epoch and a run that only shares its start (the same
// settings and first row, another third row). The run is archived once,
// the two copies are reported as the same run and not counted as
// captured; the other run gets its own archive and id. A second capture
// finds both archives unchanged.
func TestCLI_CaptureCopies(t *testing.T) {
	root := t.TempDir()
	r := rows(1, 3)
	sameSettingsRun(t, filepath.Join(root, "a"), r)
	sameSettingsRun(t, filepath.Join(root, "b-copy"), r)
	sameSettingsRun(t, filepath.Join(root, "c-early"), r[:1])
	other := rows(1, 3)
	other[2][5] = 0.123
	sameSettingsRun(t, filepath.Join(root, "d-other"), other)
	out := t.TempDir()
	args := []string{"capture", "-r", "--out-dir", out, root}
	code, stdout, stderr := runCLI(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := captureLines(t, stdout)
	a := filepath.Join(root, "a")
	if got["a"].Status != "ok" || got["d-other"].Status != "ok" || got["a"].RunID == got["d-other"].RunID {
		t.Errorf("a and d: %+v %+v", got["a"], got["d-other"])
	}
	for _, n := range []string{"b-copy", "c-early"} {
		if got[n].Status != "duplicate" || got[n].SameAs != a {
			t.Errorf("%s: %+v, want the same run as a", n, got[n])
		}
	}
	if w := got["d-other"].Warnings; len(w) != 1 || !strings.Contains(w[0], "its later rows differ") {
		t.Errorf("d's warnings: %q", w)
	}
	if archives, _ := filepath.Glob(filepath.Join(out, "*.tar.zst")); len(archives) != 2 {
		t.Errorf("%d archives, want 2", len(archives))
	}
	code, stdout, stderr = runCLI(t, args...)
	if code != 0 || !strings.Contains(stderr, "captured 2 of 2 runs (2 of the 4 sources are the same run as another source: archived once)") ||
		!strings.Contains(stderr, "2 runs unchanged") || strings.Count(stdout, "is the same run as "+a) != 2 {
		t.Errorf("second capture: exit %d: %s %s", code, stdout, stderr)
	}
}
