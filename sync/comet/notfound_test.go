package comet_test

import (
	"context"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestREST_NewProject: the first sync into a project that does not exist
// yet meets an error for the project's experiment list (400 "Project not
// found" on older servers, 404 on newer ones) and must take it as "no
// experiments yet", alone and for several archives at once (-j).
func TestREST_NewProject(t *testing.T) {
	archive := synctest.Capture(t, "detect")
	paths := synctest.BulkArchives(t, 4, -1)
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusSynced {
			t.Errorf("first sync into a new project: %s %s", r.Status, r.Error)
		}
		if n := e.srv.Calls("experiments"); n == 0 {
			t.Error("the project was not looked up")
		}
		// Several archives at once, into another new project.
		e = newEnvMode(t, mode)
		for i, r := range ysync.Batch(context.Background(), paths, e.r, ysync.BatchOptions{Jobs: 4, Store: e.store}) {
			if r.Status != ysync.StatusSynced {
				t.Errorf("-j 4, archive %d: %s %s", i, r.Status, r.Error)
			}
		}
		if n := len(e.srv.Experiments()); n != len(paths) {
			t.Errorf("%d experiments, want %d", n, len(paths))
		}
	})
}

// TestREST_CheckpointOfDeletedExperiment: the checkpoint names an
// experiment deleted since; its lookup answers 404 or 400 and the sync
// makes a new experiment instead of failing.
func TestREST_CheckpointOfDeletedExperiment(t *testing.T) {
	archive := synctest.Capture(t, "detect")
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		first := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if first.Status != ysync.StatusSynced {
			t.Fatalf("first sync: %s %s", first.Status, first.Error)
		}
		if !e.srv.DeleteExperiment(first.RemoteID) {
			t.Fatal("no experiment to delete")
		}
		again := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if again.Status != ysync.StatusSynced || again.RemoteID == first.RemoteID {
			t.Fatalf("after deletion: %s %s (key %s, deleted %s)", again.Status, again.Error, again.RemoteID, first.RemoteID)
		}
		if n := len(e.srv.Experiments()); n != 1 {
			t.Errorf("%d experiments, want 1", n)
		}
	})
}

// TestREST_LookupErrorsStayErrors: only "not found" means "none yet"; an
// unknown workspace (400, 90219) and a server that keeps failing stop the
// sync before anything is created.
func TestREST_LookupErrorsStayErrors(t *testing.T) {
	archive := synctest.Capture(t, "detect")
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		e.r = e.remote(t, comet.Options{Workspace: "no-such-ws"})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "no-such-ws") {
			t.Errorf("unknown workspace: %s %s", r.Status, r.Error)
		}
		e = newEnvMode(t, mode)
		e.srv.Faults.Next(1000, synctest.Fault{Kind: synctest.ServerError, Match: "/experiments"})
		r = e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "500") {
			t.Errorf("lookup answering 500: %s %s", r.Status, r.Error)
		}
		if n := e.srv.Calls("write/experiment/create"); n != 0 {
			t.Errorf("%d creates after failed lookups", n)
		}
	})
}
