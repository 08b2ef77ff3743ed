package mlflow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// heldPoints is what BuildPlan logged when it gathered the plan as a list
// (before the points were generated): every scalars row gathered by epoch,
// the first of a metric at an epoch kept, epochs in order, each epoch's
// lr/ train/ metrics/ val/ rows in table order, then the final
// validation. It is the reference the generated points must equal, point
// for point and in order (the order cuts the checkpointed log-batches).
func heldPoints(t *testing.T, run *ysync.Run, p *mlflow.Plan) []filestore.Metric {
	t.Helper()
	clk := ysync.NewClock(run)
	type pt struct {
		metric string
		value  float64
		at     time.Time
	}
	type metricEpoch struct {
		metric string
		epoch  int64
	}
	byEpoch := map[int64][]pt{}
	var epochs []int64
	seen := map[metricEpoch]bool{}
	for _, s := range scalars(t, run) {
		if !ysync.IsTrackerMetric(s.Metric) || s.Epoch < 1 || seen[metricEpoch{s.Metric, s.Epoch}] {
			continue
		}
		seen[metricEpoch{s.Metric, s.Epoch}] = true
		if _, ok := byEpoch[s.Epoch]; !ok {
			epochs = append(epochs, s.Epoch)
		}
		byEpoch[s.Epoch] = append(byEpoch[s.Epoch], pt{s.Metric, s.Value, clk.At(s)})
	}
	sort.Slice(epochs, func(i, j int) bool { return epochs[i] < epochs[j] })
	var out []filestore.Metric
	var last int64
	for _, e := range epochs {
		for _, prefix := range []string{"lr/", "train/", "metrics/", "val/"} {
			for _, s := range byEpoch[e] {
				if strings.HasPrefix(s.metric, prefix) {
					out = append(out, filestore.Metric{Key: mlflow.Sanitize(s.metric), Value: s.value, Timestamp: s.at.UnixMilli(), Step: e - 1})
				}
			}
		}
		last = e
	}
	if run.Info.Status == schemas.StatusFinished && last > 0 {
		for _, s := range run.Summary {
			if strings.HasPrefix(s.Key, "metrics/") {
				at := p.End
				if s.WallTime != nil {
					at = *s.WallTime
				}
				out = append(out, filestore.Metric{Key: mlflow.Sanitize(s.Key), Value: s.Value, Timestamp: at.UnixMilli(), Step: last - 1})
			}
		}
	}
	return out
}

// scalars reads the run's scalars rows whole (copies).
func scalars(t *testing.T, run *ysync.Run) []schemas.ScalarRow {
	t.Helper()
	var out []schemas.ScalarRow
	if err := run.ScanScalars(context.Background(), func(rows []schemas.ScalarRow) error {
		out = append(out, rows...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// withScalars is run with its scalars table replaced by rows, held in
// memory (as a chain's merged tables are).
func withScalars(run *ysync.Run, rows []schemas.ScalarRow) *ysync.Run {
	r := &ysync.Run{Path: run.Path, Archive: run.Archive, Tables: run.Tables}
	r.Scalars = rows
	return r
}

// TestPoints_AsHeld: the generated points are the points the plan held as
// a list, in the same order, whatever the order of the scalars table: in
// epoch order (one pass), shuffled (a pass per window of epochs, more than
// one for 80k rows), with a metric logged twice at an epoch (the first
// counts) and with rows the callback does not log. Points and the counts
// agree on every call.
func TestPoints_AsHeld(t *testing.T) {
	genuine := open(t, "detect")
	big, err := ysync.Open(context.Background(), synctest.BigArchive(t, 6_000))
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	rnd := rand.New(rand.NewPCG(1, 2))
	shuffled := func(rows []schemas.ScalarRow) []schemas.ScalarRow {
		rows = slices.Clone(rows)
		rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		return rows
	}
	twice := func(rows []schemas.ScalarRow) []schemas.ScalarRow {
		rows = slices.Clone(rows)
		// ClearML re-logs the last validation: the same metric and epoch
		// again, another value, later in the table; and a row of epoch 0
		// and a column the callback does not log.
		for _, s := range rows {
			if strings.HasPrefix(s.Metric, "metrics/") {
				s.Value += 100
				rows = append(rows, s)
			}
		}
		return append(rows, schemas.ScalarRow{Metric: "train/box_loss", Epoch: 0, Value: 1}, schemas.ScalarRow{Metric: "x/lr0", Epoch: 1, Value: 2})
	}
	for _, tc := range []struct {
		name string
		run  *ysync.Run
	}{
		{"genuine/streamed", genuine},
		{"genuine/held", withScalars(genuine, scalars(t, genuine))},
		{"genuine/shuffled", withScalars(genuine, shuffled(scalars(t, genuine)))},
		{"genuine/twice", withScalars(genuine, twice(scalars(t, genuine)))},
		{"genuine/twice-shuffled", withScalars(genuine, shuffled(twice(scalars(t, genuine))))},
		{"big/streamed", big},
		{"big/shuffled", withScalars(big, shuffled(scalars(t, big)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := mlflow.BuildPlan(context.Background(), tc.run, mlflow.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := heldPoints(t, tc.run, p)
			for pass := range 2 {
				got := planPoints(t, p)
				if len(got) != len(want) || p.Scalars != len(want) {
					t.Fatalf("pass %d: %d points, Scalars %d; want %d", pass+1, len(got), p.Scalars, len(want))
				}
				for i := range got {
					if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
						t.Fatalf("pass %d: point %d is %+v, want %+v", pass+1, i, got[i], want[i])
					}
				}
			}
			if p.Counts().Scalars != len(want) {
				t.Errorf("Counts().Scalars = %d, want %d", p.Counts().Scalars, len(want))
			}
		})
	}
}
