package mlflow_test

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"unsafe"

	"github.com/yoloarchive/yoloarchive/archive/memtest"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// heapEpochs is the size of the heap tests' run: 420k scalar rows (30k
// epochs of 14 columns, 13 of them tracker metrics: 390k points).
const heapEpochs = 30_000

// The heap tests' bounds, fixed: what a streamed sync holds does not
// grow with the rows. It holds a row group of the scalars table being
// decoded (Open alone peaks near 10 MB, see sync's
// TestOpen_StreamsBigTables), one epoch's points and O(metrics) sums; over
// REST also a log-batch, and one page of metric history (at most 25,000
// points) at both ends of the fake server, which runs in the same process:
// its answer being encoded and the client's copy being decoded. The plan
// held as a list peaked at 47 MB (mlflow-dir) and 125 MB (REST) for this
// run; the scalars table alone is 39 MB as a []schemas.ScalarRow.
const (
	dirBound  = 20 << 20
	restBound = 32 << 20
)

// tableBytes is the size of rows scalar rows as a []schemas.ScalarRow
// (their strings not counted), for the logs.
func tableBytes(rows int) uint64 {
	return uint64(rows) * uint64(unsafe.Sizeof(schemas.ScalarRow{}))
}

// TestDir_HeapBounded: writing a 420k-row run into an MLflow file store
// peaks under dirBound: the points go from the scalars table to the
// metric files as they are generated, never gathered.
func TestDir_HeapBounded(t *testing.T) {
	p := synctest.BigArchive(t, heapEpochs)
	rows := heapEpochs * len(synctest.BigMetrics)
	out := filepath.Join(t.TempDir(), "mlruns")
	var res ysync.Result
	peak, err := memtest.PeakHeap(func() error {
		res = ysync.One(context.Background(), p, mlflow.NewDir(out, mlflow.Options{}), ysync.BatchOptions{})
		return nil
	})
	if err != nil || res.Status != ysync.StatusWritten {
		t.Fatalf("sync: %s %s %v", res.Status, res.Error, err)
	}
	if want := heapEpochs * (len(synctest.BigMetrics) - 1); res.Plan.Scalars != want {
		t.Errorf("%d scalars written, want %d", res.Plan.Scalars, want)
	}
	t.Logf("%d rows to mlflow-dir: peak heap %d KB (bound %d KB; the table %d KB)", rows, peak>>10, dirBound>>10, tableBytes(rows)>>10)
	if peak > dirBound {
		t.Errorf("mlflow-dir peaks at %d KB of heap, want under %d KB", peak>>10, dirBound>>10)
	}
}

// TestREST_HeapBounded: a sync of the same run over REST, read-back
// included, peaks under restBound once what the fake server still holds
// after the sync (every point it received: the server's store, not the
// client's) is taken off. A second sync of the archive from another
// machine (no checkpoint: it reads every history back and sends
// nothing) is held to the same bound.
func TestREST_HeapBounded(t *testing.T) {
	p := synctest.BigArchive(t, heapEpochs)
	rows := heapEpochs * len(synctest.BigMetrics)
	e := newEnv(t, nil)
	for i, store := range []*ysync.Store{e.store, {Dir: t.TempDir()}} {
		var res ysync.Result
		var held uint64
		base := heapNow()
		peak, err := memtest.PeakHeap(func() error {
			res = ysync.One(context.Background(), p, e.r, ysync.BatchOptions{Store: store})
			now := heapNow()
			held = now - min(base, now)
			return nil
		})
		if err != nil || res.Error != "" {
			t.Fatalf("sync %d: %s %s %v", i+1, res.Status, res.Error, err)
		}
		if want := []string{ysync.StatusSynced, ysync.StatusUpToDate}[i]; res.Status != want {
			t.Fatalf("sync %d: %s, want %s", i+1, res.Status, want)
		}
		client := peak - min(held, peak)
		t.Logf("sync %d: %d rows over REST: peak heap %d KB, of which the fake server holds %d KB after; client %d KB (bound %d KB; the table %d KB); %d requests",
			i+1, rows, peak>>10, held>>10, client>>10, restBound>>10, tableBytes(rows)>>10, res.Requests)
		if client > restBound {
			t.Errorf("sync %d: the client peaks at %d KB of heap, want under %d KB", i+1, client>>10, restBound>>10)
		}
	}
	if n := len(e.srv.Runs()); n != 1 {
		t.Errorf("%d runs on the server, want 1", n)
	}
}

// heapNow is the heap the program's objects occupy after two collections
// (the second frees what sync.Pools kept through the first).
func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
