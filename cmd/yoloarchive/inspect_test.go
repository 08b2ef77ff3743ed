package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/memtest"
	"github.com/yoloarchive/yoloarchive/schemas"
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
		rep := inspectJSON(t, p)
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

// inspectJSON returns the archive's report as inspect --json writes it.
func inspectJSON(t *testing.T, path string) *inspectReport {
	t.Helper()
	in, err := openInspect(context.Background(), path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer in.Close()
	var out bytes.Buffer
	if err := writeInspectJSON(context.Background(), &out, in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rep inspectReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%s: inspect --json: %v\n%s", path, err, out.Bytes())
	}
	return &rep
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

// bigTables writes an archive whose gaps, assets and summary tables hold
// n rows each, streamed.
func bigTables(t *testing.T, n int) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "big.tar.zst")
	w, err := archive.Create(dst, schemas.Header{RunID: "0123456789abcdef0123456789abcdef", SourceKind: schemas.SourceUltralyticsTrain, Writer: "test",
		Tables: []string{schemas.TableRun, schemas.TableSummary, schemas.TableAssets, schemas.TableGaps}}, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	stream := func(row func(int) error) error {
		for j := range n {
			if err := row(j); err != nil {
				return err
			}
		}
		return nil
	}
	errs := []error{archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{{Name: "big", Task: "detect"}})}
	errs = append(errs, archive.WriteRowsFunc(w, schemas.TableSummary, func(emit func(...schemas.SummaryRow) error) error {
		return stream(func(j int) error {
			return emit(schemas.SummaryRow{Key: fmt.Sprintf("metrics/value%07d", j), Value: float64(j) / 3, Exact: true, Origin: "results.csv"})
		})
	}))
	errs = append(errs, archive.WriteRowsFunc(w, schemas.TableAssets, func(emit func(...schemas.AssetRow) error) error {
		return stream(func(j int) error {
			return emit(schemas.AssetRow{Role: "other", FileName: fmt.Sprintf("files/some/where/file%07d.txt", j), Size: int64(j), MediaType: "text/plain"})
		})
	}))
	errs = append(errs, archive.WriteRowsFunc(w, schemas.TableGaps, func(emit func(...schemas.GapRow) error) error {
		return stream(func(j int) error {
			return emit(schemas.GapRow{Item: fmt.Sprintf("item %07d", j), Reason: fmt.Sprintf("a reason long enough to look like a real one, number %d", j),
				Affects: []string{"clearml", "comet"}, Hint: fmt.Sprintf("a hint %d", j)})
		})
	}))
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestInspect_HeapBounded: inspect of an archive whose summary, assets
// and gaps tables hold 500k rows each keeps its heap bounded, as text and
// as JSON: it prints the rows as it reads them. It read those tables
// whole before (and a tabwriter held every line of a table, the JSON
// encoder the whole object): 316 MiB (text) and 816 MiB (JSON) of peak
// heap; now 9 and 14 MiB.
func TestInspect_HeapBounded(t *testing.T) {
	const rows = 500_000
	path := bigTables(t, rows)
	const bound = 48 << 20
	for _, args := range [][]string{{"inspect", path}, {"inspect", "--json", path}} {
		var out countWriter
		var stderr bytes.Buffer
		peak, err := memtest.PeakHeap(func() error {
			if code := run(context.Background(), args, &out, &stderr); code != 0 {
				return fmt.Errorf("exit %d: %s", code, stderr.String())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.lines < 3*rows {
			t.Fatalf("%v: %d lines of output, want at least %d", args, out.lines, 3*rows)
		}
		t.Logf("%v: %d lines, peak heap %.1f MiB", args[:len(args)-1], out.lines, float64(peak)/(1<<20))
		if peak > bound {
			t.Errorf("%v: peak heap %.1f MiB, want at most %d MiB", args[:len(args)-1], float64(peak)/(1<<20), bound>>20)
		}
	}
}

// countWriter counts the lines written to it and keeps none.
type countWriter struct{ lines int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte("\n"))
	return len(p), nil
}
