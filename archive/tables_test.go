package archive_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

func sampleTables() *archive.Tables {
	at := time.UnixMilli(1_700_000_000_000).UTC()
	s, v := "x", 0.5
	step := int64(3)
	return &archive.Tables{
		Info:        schemas.RunRow{RunID: testHeader().RunID, SourceKind: schemas.SourceUltralyticsTrain, Status: schemas.StatusFinished, Name: "exp", StartedAt: &at},
		Scalars:     testScalars(),
		Params:      []schemas.ParamRow{{Section: "args", Key: "epochs", Float: &v}, {Section: "args", Key: "name", String: &s}},
		Summary:     []schemas.SummaryRow{{Key: "fitness", Value: 0.25}},
		Images:      []schemas.ImageRow{{Blob: "b1", Role: schemas.RoleDatasetImage, FileName: "a.jpg", Step: &step}},
		Annotations: []schemas.AnnotationRow{{Image: "a.jpg", Layer: "pred", Index: 1}},
		Assets:      []schemas.AssetRow{{Blob: "b2", Role: schemas.RoleWeightsBest, FileName: "weights/best.pt"}, {Role: schemas.RoleWeightsLast, FileName: "weights/last.pt"}},
		Gaps:        []schemas.GapRow{{Item: "epoch_time", Reason: "no time column", Affects: []string{"clearml"}}},
		Logs:        []schemas.LogRow{{Level: "stdout", Message: "hello", Line: 1}},
	}
}

// nilEmpty sets every empty slice reachable from v to nil: Parquet reads
// an empty list back as an empty slice, where the rows written had nil.
func nilEmpty(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			nilEmpty(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				nilEmpty(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			nilEmpty(v.Index(i))
		}
	}
}

// writeTables writes t as an archive (no blobs) with Tables.Write and
// opens it.
func writeTables(t *testing.T, tables *archive.Tables, streamed map[string]func(*archive.Writer) error) *archive.Archive {
	t.Helper()
	p := filepath.Join(t.TempDir(), "run.tar.zst")
	h := testHeader()
	h.Tables = schemas.Tables
	w, err := archive.Create(p, h, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	var s map[string]func() error
	for name, f := range streamed {
		if s == nil {
			s = map[string]func() error{}
		}
		s[name] = func() error { return f(w) }
	}
	if err := tables.Write(context.Background(), w, s); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := archive.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestTables_WriteLoad: the tables written with Write load back equal
// with LoadTables; a subset loads only the tables named.
func TestTables_WriteLoad(t *testing.T) {
	want := sampleTables()
	a := writeTables(t, want, nil)
	got, err := archive.LoadTables(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	nilEmpty(reflect.ValueOf(got))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded:\n got %+v\nwant %+v", got, want)
	}
	some, err := archive.LoadTables(context.Background(), a, schemas.TableRun, schemas.TableGaps)
	if err != nil {
		t.Fatal(err)
	}
	nilEmpty(reflect.ValueOf(some))
	if !reflect.DeepEqual(*some, archive.Tables{Info: want.Info, Gaps: want.Gaps}) {
		t.Errorf("run and gaps only: %+v", some)
	}
	if _, err := archive.LoadTables(context.Background(), a, "nope"); err == nil {
		t.Error("an unknown table loaded")
	}
}

// TestTables_WriteStreamed: a table given a function is written by it,
// and the tables after it are read when they are reached (a capture's
// annotations may add a gap).
func TestTables_WriteStreamed(t *testing.T) {
	tables := sampleTables()
	extra := schemas.GapRow{Item: "polygons", Reason: "added while streaming"}
	a := writeTables(t, tables, map[string]func(*archive.Writer) error{
		schemas.TableScalars: func(w *archive.Writer) error {
			return archive.WriteRows(w, schemas.TableScalars, testScalars()[:1])
		},
		schemas.TableAnnotations: func(w *archive.Writer) error {
			tables.Gaps = append(tables.Gaps, extra)
			return archive.WriteRows(w, schemas.TableAnnotations, tables.Annotations)
		},
	})
	got, err := archive.LoadTables(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	nilEmpty(reflect.ValueOf(got))
	if len(got.Scalars) != 1 || len(got.Gaps) != 2 || !reflect.DeepEqual(got.Gaps[1], extra) {
		t.Errorf("scalars %d, gaps %+v: want the streamed scalar and the gap added while streaming", len(got.Scalars), got.Gaps)
	}
}

// TestTables_WriteCancelled: Write stops between tables once ctx is done.
func TestTables_WriteCancelled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run.tar.zst")
	h := testHeader()
	h.Tables = schemas.Tables
	w, err := archive.Create(p, h, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sampleTables().Write(ctx, w, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestTables_CloneRowsDigests: a clone's slices are its own; Rows counts
// the keyed tables' rows; Digests lists the blobs referenced.
func TestTables_CloneRowsDigests(t *testing.T) {
	orig := sampleTables()
	c := orig.Clone()
	c.Scalars[0].Value = 42
	c.Gaps = append(c.Gaps, schemas.GapRow{Item: "more"})
	if orig.Scalars[0].Value == 42 || len(orig.Gaps) != 1 {
		t.Error("changing the clone changed the original")
	}
	if got, want := orig.Rows(), len(orig.Scalars)+2+1+1+2+1; got != want {
		t.Errorf("rows=%d, want %d", got, want)
	}
	if got := orig.Digests(); !reflect.DeepEqual(got, map[string]bool{"b1": true, "b2": true}) {
		t.Errorf("digests %v", got)
	}
}
