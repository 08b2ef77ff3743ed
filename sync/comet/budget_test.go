package comet_test

import (
	"context"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestREST_RequestBudget: a 300-epoch run (3,900 metric points) goes to
// Comet in a few dozen requests, as `comet upload` sends it (batches of
// up to 1,000 points, one batch of parameters), not one request per
// point; a re-sync from another machine (no checkpoint) reads the
// experiment back in a handful.
func TestREST_RequestBudget(t *testing.T) {
	archive := synctest.Capture(t, synctest.SynthRun(t, 300, 0, 0))
	e := newEnv(t)
	first := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if first.Status != ysync.StatusSynced {
		t.Fatalf("%s %s", first.Status, first.Error)
	}
	if first.Plan.Scalars < 3900 || first.Plan.Images < 8 {
		t.Fatalf("plan %+v: want a run of 3,900 points and 8 images", *first.Plan)
	}
	if first.Requests > 60 {
		t.Errorf("first sync: %d requests for %d points and %d images, want at most 60", first.Requests, first.Plan.Scalars, first.Plan.Images)
	}
	other := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	if other.Status != ysync.StatusUpToDate {
		t.Fatalf("other machine: %s %s", other.Status, other.Error)
	}
	if other.Requests > 10 {
		t.Errorf("re-sync from another machine: %d requests, want at most 10", other.Requests)
	}
	t.Logf("first sync %d requests, re-sync from another machine %d", first.Requests, other.Requests)
}
