package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspect_AllFixtures captures every run under testdata and checks
// that inspect reports what each archive holds: one metric per results.csv
// column, every image counted by role, every table's row count.
func TestInspect_AllFixtures(t *testing.T) {
	outDir := t.TempDir()
	code, stdout, stderr := runCLI(t, "capture", "-r", "--json", "-o", outDir, "../../testdata")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stdout, `"status":"ok"`); n != 32 {
		t.Fatalf("%d runs captured, want 32", n)
	}
	ents, _ := os.ReadDir(outDir)
	for _, e := range ents {
		if e.Name() == ".yoloarchive-ledger.json" {
			continue
		}
		p := filepath.Join(outDir, e.Name())
		rep, err := buildInspect(context.Background(), p)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		rows := map[string]int64{}
		for _, tc := range rep.Tables {
			rows[tc.Table] = tc.Rows
		}
		var images int
		for _, rc := range rep.Images {
			images += rc.Count
		}
		if int64(images) != rows["images"] || int64(len(rep.Assets)) != rows["assets"] || int64(len(rep.Gaps)) != rows["gaps"] {
			t.Errorf("%s: images %d/%d assets %d/%d gaps %d/%d", e.Name(), images, rows["images"], len(rep.Assets), rows["assets"], len(rep.Gaps), rows["gaps"])
		}
		var points int64
		for _, m := range rep.Metrics {
			points += int64(m.Points)
		}
		if points != rows["scalars"] {
			t.Errorf("%s: %d metric points, %d scalars", e.Name(), points, rows["scalars"])
		}
		src := findSource(t, rep.Run.SourceName)
		if f, err := os.Open(filepath.Join(src, "results.csv")); err == nil {
			r := csv.NewReader(f)
			header, _ := r.Read()
			f.Close()
			if len(rep.Metrics) != len(header)-1 {
				t.Errorf("%s: %d metrics, results.csv has %d columns", e.Name(), len(rep.Metrics), len(header)-1)
			}
		}
	}
}

// findSource returns the testdata directory a run was captured from.
func findSource(t *testing.T, name string) string {
	for _, base := range []string{"../../testdata/ultralytics-8.3.166", "../../testdata/github-runs/public", "../../testdata/comet-offline"} {
		if st, err := os.Stat(filepath.Join(base, name)); err == nil && st.IsDir() {
			return filepath.Join(base, name)
		}
	}
	t.Fatalf("source %s not found", name)
	return ""
}

// TestInspect_CometSessionProducer: inspect labels a Comet session by
// what it logged, here YOLOv5's Comet logger on a detect run, not an
// Ultralytics version range guessed from parameter names.
func TestInspect_CometSessionProducer(t *testing.T) {
	out := filepath.Join(t.TempDir(), "v5.tar.zst")
	if code, _, stderr := runCLI(t, "capture", "../../testdata/comet-offline/yolov5-windows", "-o", out); code != 0 {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "inspect", out)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"task     detect train, status finished", "version  YOLOv5\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
}
