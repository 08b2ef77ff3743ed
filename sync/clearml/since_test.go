package clearml

import (
	"context"
	"testing"
)

// TestSince: what a chain's later links add. Scalars the prior plan sent
// with the same value are left out (whatever their estimated time), a
// changed value is sent again; log lines count as a multiset, so a new
// line, even one repeating an earlier message at another time, is sent
// once, and lines already sent are not.
func TestSince(t *testing.T) {
	sc := func(iter int, v float64, ts int64) event {
		return event{"type": "training_stats_scalar", "iter": iter, "metric": "train", "variant": "train/box_loss", "value": v, "timestamp": ts}
	}
	lg := func(msg string, ts int64) event {
		return event{"type": "log", "msg": msg, "level": "info", "timestamp": ts}
	}
	prior := &plan{Events: []event{sc(0, 1, 10), sc(1, 2, 20)}, Logs: []event{lg("a", 1), lg("b", 2), lg("c", 3)},
		Uploads: []upload{{Key: "k1", Digest: "d1", Size: 5}}}
	cur := &plan{Events: []event{sc(0, 1, 99), sc(1, 2.5, 20), sc(2, 3, 30)}, Logs: []event{lg("a", 1), lg("b", 2), lg("c", 3), lg("a", 4)},
		Uploads: []upload{{Key: "k1", Digest: "d1", Size: 5}, {Key: "k2", Digest: "d2", Size: 6}}}
	got, skipped, err := since(context.Background(), cur, prior)
	if err != nil {
		t.Fatal(err)
	}
	var evs []event
	if err := got.each(context.Background(), func(pt *point) error {
		evs = append(evs, pt.e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0]["value"] != 2.5 || evs[1]["iter"] != 2 || skipped != 1 {
		t.Errorf("events: %v (%d skipped)", evs, skipped)
	}
	if len(got.Logs) != 1 || got.Logs[0]["timestamp"] != int64(4) {
		t.Errorf("logs: %v", got.Logs)
	}
	if len(got.Uploads) != 1 || got.Uploads[0].Key != "k2" {
		t.Errorf("uploads: %v", got.Uploads)
	}
	if len(cur.Events) != 3 || len(cur.Logs) != 4 {
		t.Error("since changed its input")
	}
}
