package clearml_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"

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

// postEvents adds events to the fake as another client would
// (events.add_batch, Basic credentials).
func postEvents(t *testing.T, e *env, evs ...map[string]any) {
	t.Helper()
	var body bytes.Buffer
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		body.Write(b)
		body.WriteByte('\n')
	}
	req, err := http.NewRequest("POST", e.srv.API.URL+"/events.add_batch", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(e.cfg.AccessKey, e.cfg.SecretKey)
	req.Header.Set("Content-Type", "application/json-lines")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events.add_batch: %s %s", resp.Status, b)
	}
}

// readBackError is the read-back error of a sync of archive to its task,
// as the replay reports it before resending.
func readBackError(t *testing.T, e *env, archive string) error {
	t.Helper()
	ctx := context.Background()
	run, err := ysync.Open(ctx, archive)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	r, err := e.r.Open(ctx, run, &ysync.State{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(&ysync.Result{})
	if _, err := r.FindOrCreate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Steps(ctx); err != nil {
		t.Fatal(err)
	}
	return r.ReadBack(ctx)
}

// TestReadBack_NamesTheDifferences: the read-back compares series by their
// folds and only a series that differs event by event: a value changed on
// the server is named (the smallest id first) and counted, by the sync's
// error and the dry run's changes alike; a value within 1e-12 and an event
// the plan does not have are no difference.
func TestReadBack_NamesTheDifferences(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, synctest.SynthRun(t, 20, 2, 0))
	res := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced {
		t.Fatalf("%s: %s", res.Status, res.Error)
	}
	task := res.RemoteID
	scalars, all := 0, 0
	var at = map[int64]clearmltest.Event{}
	for _, ev := range e.srv.Events(task) {
		if ev.Type == "log" {
			continue
		}
		all++
		if ev.Type == "training_stats_scalar" {
			scalars++
			if ev.Variant == "train/box_loss" {
				at[ev.Iter] = ev
			}
		}
	}
	set := func(ev clearmltest.Event, v float64) map[string]any {
		return map[string]any{"type": ev.Type, "task": task, "iter": ev.Iter, "metric": ev.Metric, "variant": ev.Variant,
			"value": v, "timestamp": ev.Timestamp}
	}
	upToDate := func(what string) {
		t.Helper()
		if r := e.dryRun(t, archive, nil); r.Action != ysync.ActionUpToDate {
			t.Errorf("%s: %s %v", what, r.Action, r.Changes)
		}
		if err := readBackError(t, e, archive); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	upToDate("as synced")

	// Within the tolerance, and an event the archive does not have.
	postEvents(t, e, set(at[12], at[12].Value+1e-13), set(at[12], 0))
	postEvents(t, e, set(at[12], at[12].Value+1e-13))
	extra := set(at[12], 7)
	extra["iter"] = 5000
	postEvents(t, e, extra)
	upToDate("value within 1e-12 and an extra event")

	// Two values differ: counted, and the smallest id named.
	postEvents(t, e, set(at[3], at[3].Value+1), set(at[12], at[12].Value+1))
	r := e.dryRun(t, archive, nil)
	want := fmt.Sprintf("2 of %d scalars missing or different", scalars)
	if r.Action != ysync.ActionUpdate || len(r.Changes) != 1 || r.Changes[0] != want {
		t.Errorf("two values differ: %s %q, want %q", r.Action, r.Changes, want)
	}
	err := readBackError(t, e, archive)
	first := fmt.Sprintf("training_stats_scalar|12|%s|train/box_loss (value differs)", at[12].Metric)
	wantErr := fmt.Sprintf("read-back of ClearML task %s: 2 of %d events missing or different (first: %s): run again to resend", task, all, first)
	if err == nil || err.Error() != wantErr {
		t.Errorf("read-back: %v\nwant %s", err, wantErr)
	}
}
