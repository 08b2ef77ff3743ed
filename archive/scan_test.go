package archive_test

import (
	"context"
	"errors"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// TestScanTable_SmallTableCheap reads the 1-row run table and the 50-row
// scalars table: parquet-go reads one page header per row and column it
// is asked for past the end of a row group, so a 512-row batch made
// reading 1 row cost 19,000 page headers and 6 MB (and the archive fuzz
// targets ran at a few execs a second).
func TestScanTable_SmallTableCheap(t *testing.T) {
	dir := t.TempDir()
	p, _, _ := writeTestArchive(t, dir, archive.Options{})
	a, err := archive.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var runs, scalars int
	n := allocated(func() {
		if err := archive.ScanTable(context.Background(), a, schemas.TableRun, func(r []schemas.RunRow) error { runs += len(r); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := archive.ScanTable(context.Background(), a, schemas.TableScalars, func(r []schemas.ScalarRow) error { scalars += len(r); return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if runs != 1 || scalars != 50 {
		t.Fatalf("read %d run rows and %d scalar rows, want 1 and 50", runs, scalars)
	}
	if limit := uint64(2 << 20); n > limit {
		t.Errorf("reading 51 rows allocated %d bytes, want at most %d", n, limit)
	}
}

// TestScanTable_StopsWhenCancelled: the tables are read long after Open
// (sync plans, chain merges); cancelling the context the reader is given
// stops it between batches (a sync decoding 390k scalars ignored Ctrl-C
// until the watchdog ended it).
func TestScanTable_StopsWhenCancelled(t *testing.T) {
	p, _, _ := writeTestArchive(t, t.TempDir(), archive.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	a, err := archive.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cancel()
	_, err = archive.ReadTable[schemas.ScalarRow](ctx, a, schemas.TableScalars)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
