package mlflow_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
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
		base := memtest.HeapNow()
		peak, err := memtest.PeakHeap(func() error {
			res = ysync.One(context.Background(), p, e.r, ysync.BatchOptions{Store: store})
			now := memtest.HeapNow()
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

// TestREST_PartialFromAnotherMachine: a sync cut off halfway through its
// metric batches, then synced from a machine without its checkpoint: the
// dry run counts exactly the points the server lacks (a per-metric digest
// for the whole metrics, point by point for the partial ones), and the
// sync sends only those: the run equals a clean sync's, no point twice,
// and the batches the server holds are not sent again.
func TestREST_PartialFromAnotherMachine(t *testing.T) {
	archive, full, clean, batches := cleanSync(t, synctest.SynthRun(t, 400, 0, 0))
	if batches < 4 {
		t.Fatalf("%d log-batches: the run should need several", batches)
	}
	// Cut off at the first request after which the server holds two
	// metric batches' points (or more), but not all.
	var e *env
	held, sent := 0, 0
	for n := 1; n <= int(full.Requests) && (held < 2*1000 || held == full.Plan.Scalars); n++ {
		e = newEnv(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		e.srv.Faults.CancelAfter(n, cancel)
		r := e.sync(t, ctx, archive, ysync.BatchOptions{})
		cancel()
		e.srv.Faults.WaitQuiet()
		e.srv.Faults.Clear()
		if r.Status != ysync.StatusInterrupted {
			t.Fatalf("cut off after %d requests: %s %s", n, r.Status, r.Error)
		}
		held = 0
		if runs := e.srv.Runs(); len(runs) == 1 {
			for _, h := range runs[0].Metrics {
				held += len(h)
			}
		}
		sent = e.srv.Calls("runs/log-batch")
	}
	if held == 0 || held >= full.Plan.Scalars {
		t.Fatalf("the cut-off sync left %d of %d points: want some", held, full.Plan.Scalars)
	}
	other := &ysync.Store{Dir: t.TempDir()}
	dry := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: other, DryRun: true})
	want := fmt.Sprintf("%d of %d scalars missing", full.Plan.Scalars-held, full.Plan.Scalars)
	if !slices.Contains(dry.Changes, want) {
		t.Errorf("dry run: %q, want %q among them", dry.Changes, want)
	}
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: other})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("%s %s", r.Status, r.Error)
	}
	if got := runState(t, e.srv); got != clean {
		t.Fatalf("differs from a clean sync:\n%s\n---\n%s", got, clean)
	}
	// The params are sent again (MLflow takes the same value), the two
	// metric batches the server holds are not.
	if n := e.srv.Calls("runs/log-batch") - sent; n > batches-2 {
		t.Errorf("%d log-batches after the cut (%d before), want at most %d", n, sent, batches-2)
	}
}
