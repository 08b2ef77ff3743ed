package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/convert/export"
	"github.com/yoloarchive/yoloarchive/schemas"
)

const testdata = "../../testdata"

// archives captures the test archives: a segment run with predictions, a
// YOLOv5 run, a ClearML session, and a format 1.0 archive.
func archives(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	out := []string{filepath.Join(testdata, "archives/v1.0-detect.tar.zst")}
	for i, src := range []string{
		"ultralytics-8.3.166/segment-savejson",
		"github-runs/public/483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp",
		"ultralytics-8.3.166/detect-clearml/clearml_offline_session/offline-65072dc9b8014849a4dc396a0eb301ec.zip",
	} {
		dst := filepath.Join(dir, strconv.Itoa(i)+".tar.zst")
		opts := convert.Options{}
		if i == 0 {
			opts.Data = filepath.Join(testdata, "ultralytics-8.3.166/datasets/segment/data.yaml")
		}
		if _, err := convert.Capture(context.Background(), filepath.Join(testdata, src), dst, opts); err != nil {
			t.Fatal(err)
		}
		out = append(out, dst)
	}
	return out
}

func scalars(t *testing.T, path string) (string, []schemas.ScalarRow, map[string]int64) {
	t.Helper()
	a, err := archive.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rows, err := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, tb := range schemas.Tables {
		counts[tb] = a.Rows(tb)
	}
	return a.Header.RunID, rows, counts
}

// TestExport writes every archive in the three formats and reads each back
// with another reader (parquet-go, Arrow's IPC reader, encoding/csv): every
// table's rows are there, and the scalars hold the archive's values, with
// unified names beside the originals.
func TestExport(t *testing.T) {
	paths := archives(t)
	out := t.TempDir()
	for _, format := range []string{export.Parquet, export.Arrow, export.CSV} {
		dir := filepath.Join(out, format)
		for _, p := range paths {
			res, err := export.Export(context.Background(), p, dir, format)
			if err != nil {
				t.Fatal(err)
			}
			runID, want, counts := scalars(t, p)
			if res.RunID != runID || len(res.Files) != len(schemas.Tables) {
				t.Fatalf("%s: %+v", p, res)
			}
			for _, table := range schemas.Tables {
				n := readBack(t, format, filepath.Join(dir, filepath.FromSlash(export.Path(format, table, runID))), table, want)
				if n != counts[table] || res.Rows[table] != counts[table] {
					t.Errorf("%s %s %s: read back %d rows, exported %d, the archive has %d", format, filepath.Base(p), table, n, res.Rows[table], counts[table])
				}
			}
		}
	}
}

// readBack reads one exported file and returns its row count; for scalars
// it also compares the values and names with the archive's rows.
func readBack(t *testing.T, format, path, table string, want []schemas.ScalarRow) int64 {
	t.Helper()
	switch format {
	case export.Parquet:
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if table != schemas.TableScalars {
			st, _ := f.Stat()
			pf, err := parquet.OpenFile(f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			return pf.NumRows()
		}
		rows, err := parquet.Read[export.Scalar](f, mustSize(t, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			checkScalar(t, i, r.Metric, r.MetricOriginal, r.Value, want)
		}
		return int64(len(rows))
	case export.Arrow:
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rd, err := ipc.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Release()
		var n int64
		for rd.Next() {
			rec := rd.Record()
			if table == schemas.TableScalars {
				s := rec.Schema()
				idx := func(name string) int { return s.FieldIndices(name)[0] }
				for i := 0; i < int(rec.NumRows()); i++ {
					checkScalar(t, int(n)+i, rec.Column(idx("metric")).ValueStr(i), rec.Column(idx("metric_original")).ValueStr(i),
						rec.Column(idx("value")).(*array.Float64).Value(i), want)
				}
			}
			n += rec.NumRows()
		}
		if err := rd.Err(); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		return n
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if table == schemas.TableScalars {
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for i, r := range recs[1:] {
			v, err := strconv.ParseFloat(r[col["value"]], 64)
			if err != nil {
				t.Fatal(err)
			}
			checkScalar(t, i, r[col["metric"]], r[col["metric_original"]], v, want)
		}
	}
	return int64(len(recs) - 1)
}

func mustSize(t *testing.T, f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func checkScalar(t *testing.T, i int, metric, original string, value float64, want []schemas.ScalarRow) {
	t.Helper()
	if i >= len(want) {
		t.Fatalf("scalar %d beyond the archive's %d", i, len(want))
	}
	w := want[i]
	if original != w.Metric || metric != export.UnifiedMetric(w.Metric) || (value != w.Value && !(value != value && w.Value != w.Value)) {
		t.Fatalf("scalar %d = %s (%s) %v, archive %s %v", i, metric, original, value, w.Metric, w.Value)
	}
}

func TestUnifiedMetric(t *testing.T) {
	for in, want := range map[string]string{
		"metrics/mAP_0.5:0.95": "metrics/mAP50-95(B)", "metrics/mAP_0.5": "metrics/mAP50(B)", "x/lr0": "lr/pg0",
		"metrics/precision": "metrics/precision(B)", "  train/box_loss": "train/box_loss", "metrics/mAP50(M)": "metrics/mAP50(M)",
		"Epoch Time": "Epoch Time",
	} {
		if got := export.UnifiedMetric(in); got != want {
			t.Errorf("UnifiedMetric(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExport_AgainAndBadInput: exporting again gives the same bytes; a
// damaged archive writes nothing; a format 1.0 archive exports with the
// 1.1 columns empty.
func TestExport_AgainAndBadInput(t *testing.T) {
	old := filepath.Join(testdata, "archives/v1.0-detect.tar.zst")
	dir := t.TempDir()
	res, err := export.Export(context.Background(), old, dir, export.Parquet)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(dir, export.Path(export.Parquet, schemas.TableScalars, res.RunID)))
	if _, err := export.Export(context.Background(), old, dir, export.Parquet); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, export.Path(export.Parquet, schemas.TableScalars, res.RunID)))
	if !bytes.Equal(first, again) {
		t.Error("a second export differs")
	}
	f, _ := os.Open(filepath.Join(dir, export.Path(export.Parquet, schemas.TableRun, res.RunID)))
	runs, err := parquet.Read[schemas.RunRow](f, mustSize(t, f))
	f.Close()
	if err != nil || len(runs) != 1 || len(runs[0].Tags) != 0 {
		t.Errorf("run row of a 1.0 archive: %+v (%v)", runs, err)
	}

	data, _ := os.ReadFile(old)
	bad := filepath.Join(t.TempDir(), "bad.tar.zst")
	os.WriteFile(bad, data[:len(data)/2], 0o644)
	out := t.TempDir()
	if _, err := export.Export(context.Background(), bad, out, export.Parquet); err == nil {
		t.Error("a truncated archive exported")
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed export left %d entries", len(entries))
	}
	if _, err := export.Export(context.Background(), old, out, "xlsx"); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestExport_SameRunTwoArchives: two archives of one run (captured with
// and without its dataset) exported at once never mix their tables, and an
// export that fails part-way leaves the run's earlier files as they were.
func TestExport_SameRunTwoArchives(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(testdata, "ultralytics-8.3.166/detect")
	a, b := filepath.Join(dir, "a.tar.zst"), filepath.Join(dir, "b.tar.zst")
	if _, err := convert.Capture(context.Background(), src, a, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := convert.Capture(context.Background(), src, b, convert.Options{Data: filepath.Join(testdata, "ultralytics-8.3.166/datasets/detect/data.yaml")}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	read := func(table, runID string) []byte {
		data, _ := os.ReadFile(filepath.Join(out, export.Path(export.Parquet, table, runID)))
		return data
	}
	ra, err := export.Export(context.Background(), a, out, export.Parquet)
	if err != nil {
		t.Fatal(err)
	}
	runA, gapsA := read(schemas.TableRun, ra.RunID), read(schemas.TableGaps, ra.RunID)
	// b fails at its last table: the earlier ones must still be a's.
	last := filepath.Join(out, export.Path(export.Parquet, schemas.TableLogs, ra.RunID))
	os.Remove(last)
	os.MkdirAll(filepath.Join(last, "blocker"), 0o755)
	if _, err := export.Export(context.Background(), b, out, export.Parquet); err == nil {
		t.Fatal("the export into a blocked path succeeded")
	}
	if !bytes.Equal(read(schemas.TableRun, ra.RunID), runA) || !bytes.Equal(read(schemas.TableGaps, ra.RunID), gapsA) {
		t.Error("a failed export replaced some of the run's files")
	}
	os.RemoveAll(last)
	// Both at once, many times: the tables are always all a's or all b's.
	for i := 0; i < 10; i++ {
		done := make(chan error, 2)
		for _, p := range []string{a, b} {
			go func() { _, err := export.Export(context.Background(), p, out, export.Parquet); done <- err }()
		}
		for j := 0; j < 2; j++ {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		isA := bytes.Equal(read(schemas.TableRun, ra.RunID), runA)
		if isA != bytes.Equal(read(schemas.TableGaps, ra.RunID), gapsA) {
			t.Fatalf("round %d: the run's tables come from both archives", i)
		}
	}
}
