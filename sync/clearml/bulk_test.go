package clearml_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestBulk_CancelledThenResumed syncs twelve archives four at a time, one
// of them damaged, cancels the batch part-way, and runs it again: every
// good run ends as exactly one complete task, the damaged one fails alone
// both times, and nothing is sent twice.
func TestBulk_CancelledThenResumed(t *testing.T) {
	paths := synctest.BulkArchives(t, 12, 6)
	ref := newEnv(t)
	if r := ref.sync(t, context.Background(), paths[0], ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	want := len(ref.srv.Events(ref.srv.Tasks()[0].ID))

	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	e.srv.Faults.CancelAfter(120, cancel)
	first := ysync.Batch(ctx, paths, e.r, ysync.BatchOptions{Jobs: 4, Store: e.store})
	cancel()
	e.srv.Faults.Clear()
	counts := map[string]int{}
	for _, r := range first {
		counts[r.Status]++
	}
	if counts[ysync.StatusInterrupted] == 0 || counts[ysync.StatusSynced] == 12 {
		t.Fatalf("the cancel did not interrupt the batch: %v", counts)
	}
	t.Logf("first batch: %v", counts)
	second := ysync.Batch(context.Background(), paths, e.r, ysync.BatchOptions{Jobs: 4, Store: e.store})
	for i, r := range second {
		switch {
		case i == 6:
			if r.Status != ysync.StatusFailed || first[i].Status == ysync.StatusSynced {
				t.Errorf("damaged archive: %s then %s (%s)", first[i].Status, r.Status, r.Error)
			}
		case r.Status != ysync.StatusSynced && r.Status != ysync.StatusUpToDate:
			t.Errorf("archive %d: %s (%s)", i, r.Status, r.Error)
		}
	}
	tasks := e.srv.Tasks()
	if len(tasks) != 11 {
		t.Fatalf("%d tasks, want one per good archive (11)", len(tasks))
	}
	for _, task := range tasks {
		if n := len(e.srv.Events(task.ID)); n != want || task.Status != "completed" {
			t.Errorf("task %s (%s): %d events, status %s; want %d, completed", task.Name, task.ID, n, task.Status, want)
		}
	}
}

// TestBulk_SharedRate: with --clearml-rate, all workers together stay
// under the rate (a lower bound on the time: the limiter never lets more
// than rate × seconds + burst requests through).
func TestBulk_SharedRate(t *testing.T) {
	var paths []string
	for i := 0; i < 4; i++ {
		paths = append(paths, synctest.Capture(t, synctest.SynthRunNamed(t, fmt.Sprintf("rate%d", i), 3, 2, 0)))
	}
	e := newEnv(t)
	const perSecond = 40
	e.r.SetRate(perSecond)
	start := time.Now()
	res := ysync.Batch(context.Background(), paths, e.r, ysync.BatchOptions{Jobs: 4, Store: e.store})
	elapsed := time.Since(start)
	var requests int64
	for _, r := range res {
		if r.Status != ysync.StatusSynced {
			t.Fatalf("%s: %s", r.Status, r.Error)
		}
		requests += r.Requests
	}
	if min := time.Duration(float64(requests-perSecond) / perSecond * float64(time.Second)); requests <= perSecond || elapsed < min {
		t.Errorf("%d requests in %v: faster than %d/s allows (at least %v)", requests, elapsed, perSecond, min)
	}
}
