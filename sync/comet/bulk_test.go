package comet_test

import (
	"context"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestBulk_CancelledThenResumed: twelve archives, four at a time, one
// damaged; the batch is cancelled part-way and run again. Comet keeps
// every point it receives, so this also proves nothing was sent twice:
// every good run is one experiment with exactly the points of a clean
// sync, and the damaged archive fails alone.
func TestBulk_CancelledThenResumed(t *testing.T) {
	paths := synctest.BulkArchives(t, 12, 6)
	ref := newEnv(t)
	r := ref.sync(t, context.Background(), paths[0], ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	want := len(ref.srv.Experiments()[0].Metrics)

	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		ctx, cancel := context.WithCancel(context.Background())
		e.srv.Faults.CancelAfter(int(r.Requests)*6, cancel) // about half the batch
		first := ysync.Batch(ctx, paths, e.r, ysync.BatchOptions{Jobs: 4, Store: e.store})
		cancel()
		e.srv.Faults.Clear()
		counts := map[string]int{}
		for _, r := range first {
			counts[r.Status]++
		}
		t.Logf("first batch: %v", counts)
		if counts[ysync.StatusInterrupted] == 0 {
			t.Fatalf("the cancel did not interrupt the batch: %v", counts)
		}
		second := ysync.Batch(context.Background(), paths, e.r, ysync.BatchOptions{Jobs: 4, Store: e.store})
		for i, r := range second {
			switch {
			case i == 6:
				if r.Status != ysync.StatusFailed {
					t.Errorf("damaged archive: %s (%s)", r.Status, r.Error)
				}
			case r.Status != ysync.StatusSynced && r.Status != ysync.StatusUpToDate:
				t.Errorf("archive %d: %s (%s)", i, r.Status, r.Error)
			}
		}
		exps := e.srv.Experiments()
		if len(exps) != 11 {
			t.Fatalf("%d experiments, want one per good archive (11)", len(exps))
		}
		for _, x := range exps {
			if len(x.Metrics) != want || x.Alive {
				t.Errorf("experiment %s: %d points, alive %v; want %d, ended", x.Name, len(x.Metrics), x.Alive, want)
			}
		}
	})
}
