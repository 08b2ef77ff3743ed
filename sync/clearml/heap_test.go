package clearml_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"unsafe"

	"github.com/yoloarchive/yoloarchive/archive/memtest"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// sizeofScalarRow is a scalar row's size in a []schemas.ScalarRow (its
// strings not counted): the smallest a table held in memory could be.
const sizeofScalarRow = uint64(unsafe.Sizeof(schemas.ScalarRow{}))

// TestOffline_HeapBounded: writing a clearml-offline session of 420k
// scalar rows (30k epochs) streams the events from the table to
// metrics.jsonl: the sync's peak live heap (the Run's per-epoch summary,
// a row group's decoding, one 4 MiB line of events: 14 MB) stays under
// half the scalars table held as rows (38 MB). The plan used to hold
// every event as a map: 430 MB.
func TestOffline_HeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 420k-row archive")
	}
	const epochs = 30_000
	p := synctest.BigArchive(t, epochs)
	rows := uint64(epochs * len(synctest.BigMetrics))
	table := rows * sizeofScalarRow
	dir := t.TempDir()
	var res ysync.Result
	held, _ := memtest.PeakHeap(func() error {
		res = ysync.One(context.Background(), p, clearml.NewOffline(dir, ysync.Options{}), ysync.BatchOptions{})
		return nil
	})
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	t.Logf("%d rows: clearml-offline peaks at %d KB of live heap (table as rows %d KB)", rows, held>>10, table>>10)
	if bound := table / 2; held > bound {
		t.Errorf("clearml-offline peaks at %d KB of live heap, want under %d KB (half the scalars table)", held>>10, bound>>10)
	}
	// Every tracker metric at every epoch, and each epoch's "Epoch Time".
	if want := int(rows); res.Plan == nil || res.Plan.Scalars != want {
		t.Errorf("plan: %+v, want %d scalars", res.Plan, want)
	}
}

// heapNow is the heap the program's objects occupy after a collection.
func heapNow() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
