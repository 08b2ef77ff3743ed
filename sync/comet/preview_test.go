package comet_test

import (
	"context"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// dryRun runs a dry run of archive with a fresh request log and checks
// that only reads reached the server.
func (e *env) dryRun(t *testing.T, archive string, store *ysync.Store) ysync.Result {
	t.Helper()
	e.srv.Faults.ResetLog()
	r := ysync.One(context.Background(), archive, e.r, ysync.BatchOptions{DryRun: true, Store: store})
	if r.Status != ysync.StatusDryRun {
		t.Fatalf("dry run: %s %s", r.Status, r.Error)
	}
	onlyReads(t, e)
	return r
}

// A dry run asks the server, read-only, what a sync would do: create the
// experiment, update it (and what it lacks), or nothing.
func TestPreview(t *testing.T) {
	archive := synctest.Capture(t, "segment-savejson")
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		if r := e.dryRun(t, archive, e.store); r.Action != ysync.ActionCreate || r.RemoteID != "" {
			t.Errorf("empty server: %s %v %s", r.Action, r.Changes, r.RemoteID)
		}
		if len(e.srv.Experiments()) != 0 {
			t.Fatal("the dry run created an experiment")
		}
		// A sync cut short: the experiment exists and lacks most of the run.
		ctx, cancel := context.WithCancel(context.Background())
		e.srv.Faults.CancelAfter(8, cancel) // before the metric batches and uploads
		if r := e.sync(t, ctx, archive, ysync.BatchOptions{}); r.Status != ysync.StatusInterrupted {
			t.Fatalf("cut short: %s %s", r.Status, r.Error)
		}
		cancel()
		e.srv.Faults.WaitQuiet()
		e.srv.Faults.Clear()
		if len(e.srv.Experiments()) != 1 {
			t.Fatalf("%d experiments after the cut", len(e.srv.Experiments()))
		}
		key := e.srv.Experiments()[0].Key
		for _, store := range []*ysync.Store{e.store, nil} {
			r := e.dryRun(t, archive, store)
			changes := strings.Join(r.Changes, "; ")
			if r.Action != ysync.ActionUpdate || r.RemoteID != key || !strings.Contains(changes, "missing") ||
				!strings.Contains(changes, "experiment not ended") {
				t.Errorf("cut short (store %v): %s %q %s", store != nil, r.Action, changes, r.RemoteID)
			}
		}
		// Synced: up to date, from the checkpoint and from the server alone.
		if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
			t.Fatal(r.Error)
		}
		for _, store := range []*ysync.Store{e.store, nil} {
			if r := e.dryRun(t, archive, store); r.Action != ysync.ActionUpToDate || len(r.Changes) != 0 || r.RemoteID != key {
				t.Errorf("synced (store %v): %s %v %s", store != nil, r.Action, r.Changes, r.RemoteID)
			}
		}
	})
}
