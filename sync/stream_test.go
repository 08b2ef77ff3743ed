package sync_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/yoloarchive/yoloarchive/archive/memtest"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestOpen_StreamsBigTables: an opened Run does not hold the scalars
// table: opening 420k rows (30k epochs, 38 MB as []schemas.ScalarRow)
// peaks at about 10 MB of live heap, a row group's decoding and the
// per-epoch summary (the old Open loaded the table whole: 91 MB), and
// every row is still read, in table order, by ScanScalars.
func TestOpen_StreamsBigTables(t *testing.T) {
	const epochs = 30_000
	p := synctest.BigArchive(t, epochs)
	rows := epochs * len(synctest.BigMetrics)
	table := uint64(rows) * uint64(sizeofScalarRow)
	var run *ysync.Run
	held, err := memtest.PeakHeap(func() (err error) {
		run, err = ysync.Open(context.Background(), p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	t.Logf("%d rows: Open peaks at %d KB of live heap (table in memory %d KB)", rows, held>>10, table>>10)
	if bound := table / 2; held > bound {
		t.Errorf("Open peaks at %d KB of live heap, want under %d KB (half the scalars table)", held>>10, bound>>10)
	}
	if got := run.Epochs(); got != epochs {
		t.Errorf("Epochs() = %d, want %d", got, epochs)
	}
	if got := run.MetricNames(); !slices.Equal(got, synctest.BigMetrics) {
		t.Errorf("MetricNames() = %v, want %v", got, synctest.BigMetrics)
	}
	if got := run.EpochTimes(); len(got) != epochs || got[epochs] != epochs {
		t.Errorf("EpochTimes() has %d epochs, last %v; want %d, %d", len(got), got[epochs], epochs, epochs)
	}
	n, last := 0, int64(0)
	err = run.ScanScalars(context.Background(), func(batch []schemas.ScalarRow) error {
		for _, s := range batch {
			if s.Epoch < last || s.Metric != synctest.BigMetrics[n%len(synctest.BigMetrics)] {
				return fmt.Errorf("row %d: %s at epoch %d out of order", n, s.Metric, s.Epoch)
			}
			last = s.Epoch
			n++
		}
		return nil
	})
	if err != nil || n != rows {
		t.Fatalf("ScanScalars: %d rows, err %v; want %d", n, err, rows)
	}
}

// BenchmarkSync_BigScalars: peak live heap, wall and CPU time of 2.1 M
// scalar rows (150k epochs) written to each offline format. The table is
// streamed and the plans generate their points as they write them; the
// peak is a row group's decoding and the per-epoch summary (see
// docs/performance.md).
func BenchmarkSync_BigScalars(b *testing.B) {
	const epochs = 150_000
	p := synctest.BigArchive(b, epochs)
	rows := epochs * int64(len(synctest.BigMetrics))
	for _, tc := range []struct {
		name string
		to   func(dir string) ysync.Target
	}{
		{"comet-offline", func(dir string) ysync.Target { return comet.NewOffline(dir, comet.Options{}) }},
		{"clearml-offline", func(dir string) ysync.Target { return clearml.NewOffline(dir, ysync.Options{}) }},
		{"mlflow-dir", func(dir string) ysync.Target { return mlflow.NewDir(dir, mlflow.Options{}) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var peak uint64
			var cpu, wall time.Duration
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				b.StartTimer()
				var res ysync.Result
				start, cpu0 := time.Now(), synctest.CPUTime()
				held, _ := memtest.PeakHeap(func() error {
					res = ysync.One(context.Background(), p, tc.to(dir), ysync.BatchOptions{})
					return nil
				})
				peak = max(peak, held)
				cpu += synctest.CPUTime() - cpu0
				wall += time.Since(start)
				if res.Error != "" {
					b.Fatal(res.Error)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(peak>>20), "peak-heap-MB")
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(wall.Seconds()/n, "wall-s")
			b.ReportMetric(cpu.Seconds()/n, "cpu-s")
		})
	}
}

// sizeofScalarRow is a scalar row's size in a []schemas.ScalarRow (its
// strings and pointers' targets not counted).
const sizeofScalarRow = unsafe.Sizeof(schemas.ScalarRow{})
