package sync_test

import (
	"context"
	"slices"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// TestRun_EpochWindows: the epochs of the kept rows, in a table out of
// epoch order, cut into ascending ranges of at most maxRows kept rows; an
// epoch with more rows than that is a range alone, and rows keep refuses
// count for nothing.
func TestRun_EpochWindows(t *testing.T) {
	var rows []schemas.ScalarRow
	add := func(epoch int64, n int, metric string) {
		for range n {
			rows = append(rows, schemas.ScalarRow{Metric: metric, Epoch: epoch})
		}
	}
	add(5, 2, "a")
	add(1, 2, "a")
	add(3, 7, "a") // more than maxRows: alone
	add(2, 1, "a")
	add(4, 1, "a")
	add(4, 9, "skip")
	add(9, 3, "a")
	add(1, 1, "a") // epoch 1 again, later in the table
	run := &ysync.Run{Tables: archive.Tables{Scalars: rows}}
	keep := func(s schemas.ScalarRow) bool { return s.Metric == "a" }
	got, err := run.EpochWindows(context.Background(), keep, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Epoch rows: 1:3, 2:1, 3:7, 4:1, 5:2, 9:3.
	want := [][2]int64{{1, 2}, {3, 3}, {4, 5}, {9, 9}}
	if !slices.Equal(got, want) {
		t.Errorf("EpochWindows = %v, want %v", got, want)
	}
	if got, _ := run.EpochWindows(context.Background(), func(schemas.ScalarRow) bool { return false }, 4); len(got) != 0 {
		t.Errorf("no kept rows: %v, want none", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := run.EpochWindows(ctx, keep, 4); err == nil {
		t.Error("a cancelled scan gave no error")
	}
}
