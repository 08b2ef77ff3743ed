package sync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// resumedRun writes a run resumed part-way, as Ultralytics leaves it:
// results.csv holds epochs 1-10, then, after the resume from epoch 7,
// epochs 7-20 again. Every value of the first attempt ends in .1, of the
// resumed one in .2.
func resumedRun(t *testing.T) string {
	dir := synctest.SynthRunNamed(t, "resumed", 20, 2, 0)
	var b strings.Builder
	b.WriteString("epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n")
	row := func(e int, attempt string) {
		fmt.Fprintf(&b, "%d,%d.5", e, e*30)
		for i := 0; i < 13; i++ {
			fmt.Fprintf(&b, ",%d.%s", e, attempt)
		}
		b.WriteString("\n")
	}
	for e := 1; e <= 10; e++ {
		row(e, "1")
	}
	for e := 7; e <= 20; e++ {
		row(e, "2")
	}
	if err := os.WriteFile(filepath.Join(dir, "results.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// wantValue is the value a resumed run's epoch holds: the resumed
// attempt's from epoch 7 on.
func wantValue(epoch int64) float64 {
	if epoch >= 7 {
		return float64(epoch) + 0.2
	}
	return float64(epoch) + 0.1
}

// TestResumedRun syncs a run resumed from epoch 7 to both fake servers:
// one run each, epochs 1-20 once each, the resumed values for 7-10, and
// the archive says which rows it superseded.
func TestResumedRun(t *testing.T) {
	archive := synctest.Capture(t, resumedRun(t))
	run, err := ysync.Open(context.Background(), archive)
	if err != nil {
		t.Fatal(err)
	}
	run.Scalars = synctest.Scalars(t, run) // streamed, not held
	var gap string
	for _, g := range run.Gaps {
		if g.Item == "resumed_rows" {
			gap = g.Reason
		}
	}
	points := map[string]int{}
	for _, s := range run.Scalars {
		points[fmt.Sprintf("%s@%d", s.Metric, s.Epoch)]++
		if s.Metric != "time" && s.Value != wantValue(s.Epoch) {
			t.Errorf("%s at epoch %d = %v, want %v", s.Metric, s.Epoch, s.Value, wantValue(s.Epoch))
		}
	}
	run.Close()
	if len(points) != 20*14 || !strings.Contains(gap, "the 4 earlier rows (lines 8-11)") {
		t.Fatalf("%d metric/epoch pairs, gap %q", len(points), gap)
	}
	for k, n := range points {
		if n != 1 {
			t.Errorf("%s: %d rows", k, n)
		}
	}

	f := newFakes(t)
	cml, cmt, cr, rr := f.cml, f.cmt, f.cr, f.mr
	if r := ysync.One(context.Background(), archive, cr, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	tasks := cml.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d ClearML tasks", len(tasks))
	}
	iters := map[int64]bool{}
	for _, e := range cml.Events(tasks[0].ID) {
		if e.Type != "training_stats_scalar" || e.Metric == "Summary" || e.Variant != "train/box_loss" {
			continue
		}
		iters[e.Iter] = true
		if e.Value != wantValue(e.Iter+1) {
			t.Errorf("ClearML train/box_loss at iteration %d = %v, want %v", e.Iter, e.Value, wantValue(e.Iter+1))
		}
	}
	if len(iters) != 20 {
		t.Errorf("ClearML has %d iterations of train/box_loss, want 20", len(iters))
	}

	if r := ysync.One(context.Background(), archive, rr, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	exps := cmt.Experiments()
	if len(exps) != 1 {
		t.Fatalf("%d Comet experiments", len(exps))
	}
	epochs := map[int64]int{}
	for _, m := range exps[0].Metrics {
		if m.Name != "train/box_loss" {
			continue
		}
		epochs[*m.Epoch]++
		if v, _ := m.Value.(float64); v != wantValue(*m.Epoch) {
			t.Errorf("Comet train/box_loss at epoch %d = %v, want %v", *m.Epoch, m.Value, wantValue(*m.Epoch))
		}
	}
	for e := int64(1); e <= 20; e++ {
		if epochs[e] != 1 {
			t.Errorf("Comet train/box_loss has %d points at epoch %d, want 1", epochs[e], e)
		}
	}
}
