package clearml

import (
	"context"
	"maps"
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

// TestSince_ServerEndsAsPlanned: an id logged twice (a finished run's
// final validation re-logs the last epoch's metrics; the server keeps the
// later value). Whatever the prior and the new plan repeat, the events
// since leaves in, sent after the prior ones, leave the server with the
// new plan's last value of every id.
func TestSince_ServerEndsAsPlanned(t *testing.T) {
	sc := func(iter int, v float64) event {
		return event{"type": "training_stats_scalar", "iter": iter, "metric": "metrics", "variant": "metrics/mAP50(B)", "value": v, "timestamp": int64(iter)}
	}
	apply := func(server map[int]float64, evs []event) {
		for _, e := range evs {
			server[e["iter"].(int)] = e["value"].(float64)
		}
	}
	for _, c := range []struct {
		name       string
		prior, cur []event
	}{
		// The prior link ended at epoch 1 (its final validation overwrote
		// the epoch's value); the run went on: epoch 1 is no longer last.
		{"prior re-logged", []event{sc(0, 1), sc(1, 2), sc(1, 3)}, []event{sc(0, 1), sc(1, 2), sc(2, 4)}},
		// Both end at epoch 1 with its re-log.
		{"both re-logged", []event{sc(0, 1), sc(1, 2), sc(1, 3)}, []event{sc(0, 1), sc(1, 2), sc(1, 3)}},
		// Only the new plan re-logs epoch 1.
		{"new re-logged", []event{sc(0, 1), sc(1, 2)}, []event{sc(0, 1), sc(1, 2), sc(1, 3)}},
		{"new re-logged as before", []event{sc(0, 1), sc(1, 3)}, []event{sc(0, 1), sc(1, 2), sc(1, 3)}},
	} {
		got, _, err := since(context.Background(), &plan{Events: c.cur}, &plan{Events: c.prior})
		if err != nil {
			t.Fatal(err)
		}
		var sent []event
		if err := got.each(context.Background(), func(pt *point) error {
			sent = append(sent, pt.e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		server, want := map[int]float64{}, map[int]float64{}
		apply(server, c.prior)
		apply(server, sent)
		apply(want, c.cur)
		if !maps.Equal(server, want) {
			t.Errorf("%s: sent %v: the server holds %v, want %v", c.name, sent, server, want)
		}
	}
}
