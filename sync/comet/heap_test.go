package comet_test

import (
	"context"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive/memtest"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// heapEpochs is the size of the heap tests' run: 30,000 epochs, 420k
// scalar rows (about 38 MB as []schemas.ScalarRow, 130 MB as the Log of
// calls the replay used to build before its first write).
const heapEpochs = 30_000

// heapBound is what a sync of the heap tests' run may hold at its peak:
// the archive reader's decoding of a row group (about 10 MB, see
// sync.TestOpen_StreamsBigTables), one epoch's calls, a few batch bodies
// and per-metric summaries. It does not grow with the rows: the metric
// calls are generated from the scalars table as they are written or sent.
const heapBound = 32 << 20

// TestOffline_HeapBounded: writing a 420k-row run's offline zip peaks far
// below the table's size: the zip's messages are written as the scans
// generate them, never listed whole (it peaked at 130 MB when the Log held
// every call).
func TestOffline_HeapBounded(t *testing.T) {
	p := synctest.BigArchive(t, heapEpochs)
	dir := t.TempDir()
	var res ysync.Result
	peak, _ := memtest.PeakHeap(func() error {
		res = ysync.One(context.Background(), p, comet.NewOffline(dir, comet.Options{}), ysync.BatchOptions{})
		return nil
	})
	if res.Status != ysync.StatusWritten {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	// 13 tracker metrics an epoch, and the last epoch's learning rates
	// again at train end.
	if want := heapEpochs*13 + 3; res.Plan.Scalars != want {
		t.Errorf("plan counts %d scalars, want %d", res.Plan.Scalars, want)
	}
	t.Logf("comet-offline, %d epochs: peak heap %d KB", heapEpochs, peak>>10)
	if peak > heapBound {
		t.Errorf("peak heap %d MB, want under %d MB", peak>>20, heapBound>>20)
	}
}
