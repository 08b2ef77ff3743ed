package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	aparquet "github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// pqarrowIPC is how the Arrow export was made before it read Parquet with
// parquet-go: Arrow's own Parquet reader (pqarrow) in batches of 64k rows,
// written as a zstd-compressed IPC stream. The tests keep it as the
// reference the new path must equal; the binary no longer links it.
func pqarrowIPC(t *testing.T, data []byte) []byte {
	t.Helper()
	props := aparquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 20
	pf, err := file.NewParquetReader(bytes.NewReader(data), file.WithReadProps(props))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var out bytes.Buffer
	iw := ipc.NewWriter(&out, ipc.WithSchema(rr.Schema()), ipc.WithZstd())
	for rr.Next() {
		if err := iw.Write(rr.Record()); err != nil {
			t.Fatal(err)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if err := iw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// sameArrow compares two IPC streams: the same schema (types, field
// names, nullability, metadata) and the same record batches, row for row
// and value for value. Bytes may differ only where Arrow leaves them
// undefined: pqarrow left stale values in null slots (and wider validity
// buffers), the builders leave zeros.
func sameArrow(t *testing.T, what string, got, want []byte) {
	t.Helper()
	g, err := ipc.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer g.Release()
	w, err := ipc.NewReader(bytes.NewReader(want))
	if err != nil {
		t.Fatalf("%s: pqarrow: %v", what, err)
	}
	defer w.Release()
	if !g.Schema().Equal(w.Schema()) || g.Schema().String() != w.Schema().String() {
		t.Fatalf("%s: schema\n%s\npqarrow's\n%s", what, g.Schema(), w.Schema())
	}
	for batch := 0; w.Next(); batch++ {
		if !g.Next() {
			t.Fatalf("%s: %d batches, pqarrow %d or more", what, batch, batch+1)
		}
		gr, wr := g.Record(), w.Record()
		if gr.NumRows() != wr.NumRows() {
			t.Fatalf("%s: batch %d has %d rows, pqarrow's %d", what, batch, gr.NumRows(), wr.NumRows())
		}
		for c := range wr.Columns() {
			if !array.Equal(gr.Column(c), wr.Column(c)) {
				t.Fatalf("%s: batch %d, column %s differs", what, batch, wr.ColumnName(c))
			}
		}
	}
	if g.Next() {
		t.Fatalf("%s: more batches than pqarrow's", what)
	}
}

func newArrow(t *testing.T, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := toArrow(context.Background(), bytes.NewReader(data), &out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestArrow_SameAsPqarrow: every table of the fixture archives (a
// segment run with polygons, lists of lists; a YOLOv5 run; a ClearML
// session; a format 1.0 archive) exports to the Arrow that pqarrow gave.
func TestArrow_SameAsPqarrow(t *testing.T) {
	testdata := "../../testdata"
	paths := []string{filepath.Join(testdata, "archives/v1.0-detect.tar.zst")}
	dir := t.TempDir()
	for i, src := range []string{
		"ultralytics-8.3.166/segment-savejson",
		"github-runs/public/483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp",
		"ultralytics-8.3.166/detect-clearml/clearml_offline_session/offline-65072dc9b8014849a4dc396a0eb301ec.zip",
	} {
		dst := filepath.Join(dir, strconv.Itoa(i)+".tar.zst")
		if _, err := convert.Capture(context.Background(), filepath.Join(testdata, src), dst, convert.Options{}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, dst)
	}
	for _, p := range paths {
		a, err := archive.Open(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range schemas.Tables {
			var pq bytes.Buffer
			if _, err := tableParquet(context.Background(), a, nil, table, &pq); err != nil {
				t.Fatal(err)
			}
			sameArrow(t, filepath.Base(p)+" "+table, newArrow(t, pq.Bytes()), pqarrowIPC(t, pq.Bytes()))
		}
		a.Close()
	}
}

// nested has what the archive's tables do not (yet): optional lists,
// null elements, empty inner lists, float32, null strings, in row groups
// smaller than a batch.
type nested struct {
	ID      int64       `parquet:"id"`
	Name    *string     `parquet:"name,optional"`
	Tags    []string    `parquet:"tags,list"`
	Maybe   []*float64  `parquet:"maybe,list"`
	Rings   [][]float64 `parquet:"rings,list"`
	Opt     []int32     `parquet:"opt,optional,list"`
	F32     float32     `parquet:"f32"`
	OK      *bool       `parquet:"ok,optional"`
	When    *time.Time  `parquet:"when,optional,timestamp(millisecond)"`
	Micro   time.Time   `parquet:"micro,timestamp(microsecond)"`
	Strings [][]string  `parquet:"strings,list"`
	Deep    [][][]int64 `parquet:"deep,list"`
	Ptrs    []*string   `parquet:"ptrs,list"`
}

// TestArrow_SameAsPqarrow_Shapes: more rows than a batch (the batches
// cross row groups as pqarrow's did), nulls in every place a list can
// have them, and a table with no rows (the schema alone).
func TestArrow_SameAsPqarrow_Shapes(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	rows := make([]nested, 140000)
	for i := range rows {
		r := &rows[i]
		r.ID = int64(i)
		r.F32 = float32(i) / 3
		r.Micro = time.UnixMicro(int64(i) * 1234567).UTC()
		switch i % 7 {
		case 0:
			r.Name, r.Tags, r.Maybe = s(fmt.Sprint("n", i)), []string{"a", "", "c"}, []*float64{f(1), nil, f(3)}
			r.Rings, r.Opt, r.OK = [][]float64{{1, 2}, {}, {3}}, []int32{7}, b(true)
			when := time.UnixMilli(int64(i) * 1000).UTC()
			r.When = &when
			r.Strings, r.Deep, r.Ptrs = [][]string{{"x"}, {}}, [][][]int64{{{1}, {}}, {}, {{2, 3}}}, []*string{nil, s("p")}
		case 1:
			r.Maybe, r.Rings, r.Opt, r.OK = []*float64{nil}, [][]float64{{}}, []int32{}, b(false)
			r.Deep = [][][]int64{{}}
		case 2:
			r.Tags, r.Ptrs = []string{fmt.Sprint(i)}, []*string{nil}
		}
	}
	var pq bytes.Buffer
	if err := parquet.Write(&pq, rows, parquet.MaxRowsPerRowGroup(10000)); err != nil {
		t.Fatal(err)
	}
	got, want := newArrow(t, pq.Bytes()), pqarrowIPC(t, pq.Bytes())
	sameArrow(t, "nested", got, want)
	if n := batchesIn(t, got); n != 3 {
		t.Errorf("140,000 rows in %d batches, want 3 of up to 65,536", n)
	}

	pq.Reset()
	if err := parquet.Write(&pq, []nested{}); err != nil {
		t.Fatal(err)
	}
	sameArrow(t, "no rows", newArrow(t, pq.Bytes()), pqarrowIPC(t, pq.Bytes()))

	pq.Reset()
	if err := parquet.Write(&pq, []Scalar{{RunID: "r", Metric: "m", Epoch: 1, Value: 0.5}}); err != nil {
		t.Fatal(err)
	}
	sameArrow(t, "one scalar", newArrow(t, pq.Bytes()), pqarrowIPC(t, pq.Bytes()))
}

func batchesIn(t *testing.T, data []byte) int {
	r, err := ipc.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	n := 0
	for r.Next() {
		n++
	}
	return n
}

// TestArrow_Unsupported: a Parquet column the export has no Arrow type
// for is one error naming it, not a panic or a wrong type.
func TestArrow_Unsupported(t *testing.T) {
	type odd struct {
		ID  int64             `parquet:"id"`
		U   uint32            `parquet:"u"`
		Map map[string]string `parquet:"m"`
	}
	var pq bytes.Buffer
	if err := parquet.Write(&pq, []odd{{ID: 1, U: 2}}); err != nil {
		t.Fatal(err)
	}
	err := toArrow(context.Background(), bytes.NewReader(pq.Bytes()), io.Discard)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("column u")) {
		t.Fatalf("a uint32 column: %v, want an error naming column u", err)
	}
}
