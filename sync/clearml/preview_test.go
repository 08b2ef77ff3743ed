package clearml_test

import (
	"context"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
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
// task, update it (and what it lacks), or nothing.
func TestPreview(t *testing.T) {
	archive := synctest.Capture(t, "detect-clearml")
	e := newEnv(t)
	if r := e.dryRun(t, archive, e.store); r.Action != ysync.ActionCreate || r.RemoteID != "" {
		t.Errorf("empty server: %s %v %s", r.Action, r.Changes, r.RemoteID)
	}
	if len(e.srv.Projects()) != 0 || len(e.srv.Tasks()) != 0 {
		t.Fatal("the dry run created something")
	}

	// A sync cut short: the task exists and lacks events, files, its
	// model and its completion.
	ctx, cancel := context.WithCancel(context.Background())
	e.srv.Faults.CancelAfter(12, cancel)
	if r := e.sync(t, ctx, archive, ysync.BatchOptions{}); r.Status != ysync.StatusInterrupted {
		t.Fatalf("cut short: %s %s", r.Status, r.Error)
	}
	cancel()
	e.srv.Faults.WaitQuiet()
	e.srv.Faults.Clear()
	if len(e.srv.Tasks()) != 1 {
		t.Fatalf("%d tasks after the cut", len(e.srv.Tasks()))
	}
	r := e.dryRun(t, archive, e.store)
	changes := strings.Join(r.Changes, "; ")
	if r.Action != ysync.ActionUpdate || r.RemoteID != e.srv.Tasks()[0].ID || !strings.Contains(changes, "scalars missing") ||
		!strings.Contains(changes, "task not completed") {
		t.Errorf("cut short: %s %q %s", r.Action, changes, r.RemoteID)
	}
	// Without the checkpoint (another machine): the task is found by its
	// run id, with the same changes.
	if r2 := e.dryRun(t, archive, nil); r2.Action != ysync.ActionUpdate || r2.RemoteID != r.RemoteID || strings.Join(r2.Changes, "; ") != changes {
		t.Errorf("from another machine: %s %v %s", r2.Action, r2.Changes, r2.RemoteID)
	}

	// Synced: up to date, from the checkpoint and from the server alone
	// (a full read-back finds nothing missing).
	if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	for _, store := range []*ysync.Store{e.store, nil} {
		if r := e.dryRun(t, archive, store); r.Action != ysync.ActionUpToDate || len(r.Changes) != 0 || r.URL == "" {
			t.Errorf("synced (store %v): %s %v %s", store != nil, r.Action, r.Changes, r.URL)
		}
	}
	// --force would make a fresh task.
	if r := ysync.One(context.Background(), archive, e.r, ysync.BatchOptions{DryRun: true, Force: true, Store: e.store}); r.Action != ysync.ActionCreate {
		t.Errorf("--force: %s", r.Action)
	}
}
