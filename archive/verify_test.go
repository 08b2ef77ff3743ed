package archive_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// corruptTable rewrites the scalars table of a test archive with the bytes
// edit picks in it overwritten, and returns the new archive's path.
func corruptTable(t *testing.T, table []byte, edit func(f *parquet.File) (off, n int64)) string {
	t.Helper()
	dir := t.TempDir()
	p, _, _ := writeTestArchive(t, dir, archive.Options{})
	es := unpack(t, p)
	for i := range es {
		if es[i].name != "tables/scalars.parquet" {
			continue
		}
		if table != nil {
			es[i].data = table
		}
		f, err := parquet.OpenFile(bytes.NewReader(es[i].data), int64(len(es[i].data)))
		if err != nil {
			t.Fatal(err)
		}
		off, n := edit(f)
		if off <= 0 || n <= 0 {
			t.Fatal("nothing to corrupt in the table")
		}
		data := bytes.Clone(es[i].data)
		for j := off; j < off+n; j++ {
			data[j] = 0xff
		}
		es[i].data = data
	}
	bad := filepath.Join(dir, "bad.tar.zst")
	repack(t, bad, es, nil)
	return bad
}

// TestVerify_UnreadableTableParts: Verify reads what Open skips of a table
// (its page index, its bloom filters) and refuses the archive when they
// are unreadable.
func TestVerify_UnreadableTableParts(t *testing.T) {
	var withBloom bytes.Buffer
	w := parquet.NewGenericWriter[schemas.ScalarRow](&withBloom, parquet.BloomFilters(parquet.SplitBlockFilter(10, "metric")))
	if _, err := w.Write(testScalars()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		table []byte
		edit  func(f *parquet.File) (int64, int64)
	}{
		{"PageIndex", nil, func(f *parquet.File) (int64, int64) {
			c := f.Metadata().RowGroups[0].Columns[0]
			return c.ColumnIndexOffset, int64(c.ColumnIndexLength)
		}},
		{"BloomFilter", withBloom.Bytes(), func(f *parquet.File) (int64, int64) {
			for _, c := range f.Metadata().RowGroups[0].Columns {
				if off := c.MetaData.BloomFilterOffset; off > 0 {
					return off, 8
				}
			}
			return 0, 0
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := corruptTable(t, tc.table, tc.edit)
			a, err := archive.Open(t.Context(), bad)
			if err != nil {
				t.Fatalf("Open: %v (it does not read that part)", err)
			}
			a.Close()
			_, err = archive.Verify(t.Context(), bad)
			if !errors.Is(err, archive.ErrChecksum) || !strings.Contains(err.Error(), `table "scalars"`) {
				t.Fatalf("Verify: err = %v, want the scalars table refused", err)
			}
		})
	}
}
