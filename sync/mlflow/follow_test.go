package mlflow_test

import (
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestREST_SyncWhileTraining: a run followed while it trains (capture
// --follow) and synced every few epochs, some syncs killed part-way,
// ends as one run equal to a sync of the finished run's capture; the run
// stays RUNNING until the final link; an earlier state synced after the
// final one is behind and changes nothing.
func TestREST_SyncWhileTraining(t *testing.T) {
	tr := synctest.NewTraining(t, "live", 6)
	base := filepath.Join(t.TempDir(), "run.tar.zst")
	f, err := convert.NewFollower(context.Background(), tr.Dir, base, convert.FollowOptions{Capture: convert.Options{Workers: 2}, Now: tr.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := newEnv(t, nil)
	rng := rand.New(rand.NewSource(5))
	sawRunning := false
	for i := 0; !f.Final(); i++ {
		if i > 1000 {
			t.Fatal("the follower never wrote the final link")
		}
		if !tr.Done() {
			tr.Step()
		} else {
			tr.Wait(5 * time.Second)
		}
		if _, err := f.Step(context.Background()); err != nil && !errors.Is(err, convert.ErrNotReady) {
			t.Fatal(err)
		}
		if i%4 != 3 {
			continue
		}
		if _, err := os.Stat(chain.LinkPath(base, 0)); err != nil {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		if rng.Intn(2) == 0 {
			e.srv.Faults.CancelAfter(1+rng.Intn(20), cancel)
		}
		res := e.sync(t, ctx, base, ysync.BatchOptions{})
		cancel()
		e.srv.Faults.WaitQuiet()
		e.srv.Faults.Clear()
		switch res.Status {
		case ysync.StatusSynced, ysync.StatusPartial, ysync.StatusUpToDate, ysync.StatusInterrupted:
		default:
			t.Fatalf("sync %d: %s %s", i, res.Status, res.Error)
		}
		if rs := e.srv.Runs(); len(rs) == 1 && rs[0].Info.Status == filestore.Running {
			sawRunning = true
		}
	}
	res := e.sync(t, context.Background(), base, ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced && res.Status != ysync.StatusUpToDate {
		t.Fatalf("final sync: %s %s", res.Status, res.Error)
	}
	if !sawRunning {
		t.Error("the run was never seen RUNNING while training")
	}
	full := filepath.Join(t.TempDir(), "full.tar.zst")
	if _, err := convert.Capture(context.Background(), tr.Dir, full, convert.Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	ref := newEnv(t, nil)
	if r := ref.sync(t, context.Background(), full, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	got, want := runState(t, e.srv), runState(t, ref.srv)
	if got != want {
		t.Fatalf("synced while training:\n%s\n---\nthe finished run synced once:\n%s", got, want)
	}
	// An earlier state (half the links) synced afterwards: behind.
	early := filepath.Join(t.TempDir(), "run.tar.zst")
	links, _, _ := chain.Files(base)
	for i, l := range links[:len(links)/2] {
		data, _ := os.ReadFile(l)
		if err := os.WriteFile(chain.LinkPath(early, i), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.sync(t, context.Background(), early, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}}); r.Status != ysync.StatusBehind {
		t.Errorf("an earlier state after the final: %s %s", r.Status, r.Error)
	}
	if got := runState(t, e.srv); got != want {
		t.Errorf("an earlier state changed the run")
	}
}
