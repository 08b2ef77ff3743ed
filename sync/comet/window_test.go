package comet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestBuild_TableOrder: the calls do not depend on the scalars table's
// order, nor on the window the generation holds: a table in metric order
// (a tracker session's), read a few epochs at a time, builds the calls of
// the same rows in epoch order, read in one pass; a metric's second point
// of an epoch with a step (a session's duplicate) is left out either way.
func TestBuild_TableOrder(t *testing.T) {
	metrics := []string{"train/box_loss", "metrics/mAP50(B)", "val/box_loss", "lr/pg0", "time"}
	var byEpoch []schemas.ScalarRow
	for e := int64(1); e <= 40; e++ {
		for i, m := range metrics {
			byEpoch = append(byEpoch, schemas.ScalarRow{Metric: m, Epoch: e, Value: float64(i) + 1/float64(e), Step: comet.Int64(e)})
			if e%7 == 0 {
				byEpoch = append(byEpoch, schemas.ScalarRow{Metric: m, Epoch: e, Value: -1, Step: comet.Int64(e)})
			}
		}
	}
	byMetric := slices.Clone(byEpoch)
	slices.SortStableFunc(byMetric, func(a, b schemas.ScalarRow) int {
		return slices.Index(metrics, a.Metric) - slices.Index(metrics, b.Metric)
	})
	info := schemas.RunRow{Status: schemas.StatusFinished, Name: "x", EpochsCompleted: 40}
	summary := []schemas.SummaryRow{{Key: "metrics/mAP50(B)", Value: 0.5}}
	want, err := comet.Build(context.Background(), oddRun(info, byEpoch, summary), comet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := want.Counts().Scalars; n != 40*4+1+1 {
		t.Fatalf("epoch order: %d scalars, want %d", n, 40*4+2)
	}
	for _, window := range []int{1, 7, 1 << 17} {
		restore := comet.SetWindows(window, 1<<18)
		got, err := comet.Build(context.Background(), oddRun(info, byMetric, summary), comet.Options{})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Calls, want.Calls) {
			t.Errorf("window of %d rows: the calls of a table in metric order differ from those in epoch order", window)
		}
	}
}

// TestREST_ResumeInWindows: a sync stopped while it sent the metrics
// resumes to the same experiment as a clean sync when the read-back
// compares the metrics a few points at a time (several windows, each
// read from the server and compared with a walk of the plan), and a dry
// run then counts the same missing points with any window.
func TestREST_ResumeInWindows(t *testing.T) {
	archive, _, clean := cleanSync(t)
	for _, n := range []int{12} { // the first metric batch arrived, the others not
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithCancel(context.Background())
			e.srv.Faults.CancelAfter(n, cancel)
			r := e.sync(t, ctx, archive, ysync.BatchOptions{})
			cancel()
			e.srv.Faults.Clear()
			if r.Status == ysync.StatusSynced {
				t.Fatalf("killed at request %d: synced anyway", n)
			}
			dry := func(window int) []string {
				defer comet.SetWindows(1<<17, window)()
				r := e.sync(t, context.Background(), archive, ysync.BatchOptions{DryRun: true})
				if r.Error != "" {
					t.Fatal(r.Error)
				}
				return r.Changes
			}
			if small, big := dry(100), dry(1<<18); !slices.Equal(small, big) {
				t.Errorf("dry run with windows of 100 points: %q, with one window: %q", small, big)
			} else if !strings.Contains(strings.Join(big, ";"), "metric points missing") {
				t.Errorf("dry run %q: no metric points missing", big)
			}
			restore := comet.SetWindows(1<<17, 100)
			r = e.sync(t, context.Background(), archive, ysync.BatchOptions{})
			restore()
			if r.Status != ysync.StatusSynced {
				t.Fatalf("resume: %s %s", r.Status, r.Error)
			}
			if got := experimentState(e.srv.Experiments()[0]); got != clean {
				t.Errorf("resume in windows differs from a clean sync:\n%s\n---\n%s", got, clean)
			}
		})
	}
}

// TestREST_ReadBackNamesDuplicate: a point the experiment holds twice
// fails the read-back, which names it and both counts, as it did when it
// compared every point: the metric's fold differs, its points are
// compared one by one.
func TestREST_ReadBackNamesDuplicate(t *testing.T) {
	archive := synctest.Capture(t, synctest.SynthRun(t, 20, 0, 0))
	e := newEnv(t)
	if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	x := e.srv.Experiments()[0]
	m := x.Metrics[len(x.Metrics)/2]
	body, _ := json.Marshal(map[string]any{"experimentKey": x.Key, "metricName": m.Name, "metricValue": m.Value,
		"step": m.Step, "epoch": m.Epoch, "timestamp": m.Timestamp})
	req, _ := http.NewRequest("POST", e.srv.RESTBase()+"write/experiment/metric", bytes.NewReader(body))
	req.Header.Set("Authorization", e.srv.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("duplicate point: HTTP %d", resp.StatusCode)
	}
	// Another machine (no checkpoint) reads back first, sends what is
	// missing (nothing), and reads back again.
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	want := fmt.Sprintf("metric point %s|%d|%d||", m.Name, *m.Step, *m.Epoch)
	if r.Status == ysync.StatusSynced || !strings.Contains(r.Error, want) || !strings.Contains(r.Error, ": 2 on the server, want 1") {
		t.Errorf("status %s, error %q; want one naming %q, 2 on the server, want 1", r.Status, r.Error, want)
	}
}

// TestBuildSession_PointsOutOfTimeOrder: a session's points whose table is
// not in time order are generated in the order of their times, those of
// one time in table order, among the other calls as a stable sort of all
// of them puts them, whatever the window of points held.
func TestBuildSession_PointsOutOfTimeOrder(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(sec int) *time.Time { x := start.Add(time.Duration(sec) * time.Second); return &x }
	var rows []schemas.ScalarRow
	for i := range 60 {
		sec := (i * 37) % 23 // out of order, with ties
		rows = append(rows, schemas.ScalarRow{Metric: fmt.Sprintf("m%d", i%4), Epoch: 1, Value: float64(i), Step: comet.Int64(int64(i)), WallTime: at(sec)})
	}
	info := schemas.RunRow{Status: schemas.StatusFinished, Name: "x", SourceKind: schemas.SourceCometOffline, StartedAt: at(0), EndedAt: at(30)}
	run := oddRun(info, rows, nil)
	run.Params = []schemas.ParamRow{{Section: "args", Key: "lr", Type: schemas.TypeFloat, Float: new(0.1), WallTime: at(5)}}
	run.Logs = []schemas.LogRow{{Message: "hello\n", Time: at(5)}, {Message: "end\n", Time: at(22)}}
	want := slices.Clone(rows)
	slices.SortStableFunc(want, func(a, b schemas.ScalarRow) int { return a.WallTime.Compare(*b.WallTime) })
	for _, window := range []int{1, 7, 1 << 17} {
		restore := comet.SetSessionWindow(window)
		l, err := comet.Build(context.Background(), run, comet.Options{})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		var kinds []string
		for i, c := range l.Calls {
			if c.Kind == comet.KindMetrics {
				got = append(got, c.Metrics[0].Value)
			} else {
				kinds = append(kinds, fmt.Sprintf("%s@%d", c.Kind, i))
			}
			if i > 0 && c.Time.Before(l.Calls[i-1].Time) {
				t.Fatalf("window %d: call %d (%s) at %v before the one before it", window, i, c.Kind, c.Time)
			}
		}
		var wantValues []float64
		for _, r := range want {
			wantValues = append(wantValues, r.Value)
		}
		if !slices.Equal(got, wantValues) {
			t.Errorf("window %d: points in order %v, want %v", window, got, wantValues)
		}
		// The parameter (at 5 s, logged before the points) comes before
		// the points of 5 s; the console line of 5 s (after) after them.
		var before5, at5 int
		for _, r := range want {
			if r.WallTime.Before(*at(5)) {
				before5++
			} else if r.WallTime.Equal(*at(5)) {
				at5++
			}
		}
		if wantKinds := []string{fmt.Sprintf("%s@%d", comet.KindParameters, before5), fmt.Sprintf("%s@%d", comet.KindOutput, before5+1+at5)}; !slices.Equal(kinds[:2], wantKinds) {
			t.Errorf("window %d: calls %v, want %v first", window, kinds, wantKinds)
		}
	}
}
