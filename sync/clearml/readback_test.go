package clearml_test

import (
	"context"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestSync_OneEpochReadsBack: every event of a one-epoch run sits at
// iteration 0 (or the single values' -2^31), and the server's
// get_task_events scroll starts over after a page that ends at iteration
// 0; the read-back must still end, with everything seen.
func TestSync_OneEpochReadsBack(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, synctest.SynthRun(t, 1, 2, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := e.sync(t, ctx, archive, ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if n := e.srv.Calls("events.get_task_events"); n > 10 {
		t.Errorf("%d get_task_events calls for a one-epoch run", n)
	}
}

// TestSync_ManyScalarsReadBack: more than 10,000 scalars (the totals the
// server reports stop there) are read back page by page and verified.
func TestSync_ManyScalarsReadBack(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, synctest.SynthRun(t, 750, 2, 0))
	res := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if res.Plan.Scalars <= 10_000 {
		t.Fatalf("%d scalars, want more than 10,000", res.Plan.Scalars)
	}
	if n, want := e.srv.Calls("events.get_task_events"), res.Plan.Scalars/1000+8; n > want {
		t.Errorf("%d get_task_events calls, want at most %d", n, want)
	}
}

// TestSync_ProjectDeletedOnServer: the project a checkpoint remembers was
// deleted on the server (with the run's task); a sync again makes both
// anew instead of failing on the stale project id forever.
func TestSync_ProjectDeletedOnServer(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, synctest.SynthRun(t, 3, 2, 0))
	first := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if first.Status != ysync.StatusSynced {
		t.Fatalf("first: %s %s", first.Status, first.Error)
	}
	task, _ := e.srv.Task(first.RemoteID)
	e.srv.DeleteProject(task.Project)
	again := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if again.Status != ysync.StatusSynced || again.RemoteID == first.RemoteID {
		t.Fatalf("after the delete: %s %s", again.Status, again.Error)
	}
	tasks, projects := e.srv.Tasks(), e.srv.Projects()
	if len(tasks) != 1 || len(projects) == 0 || tasks[0].Project != projects[len(projects)-1].ID {
		t.Fatalf("%d tasks (want 1) in project %v of %+v", len(tasks), tasks, projects)
	}
}
