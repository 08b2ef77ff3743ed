package sync_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
)

// bigMetrics are the tracker metrics of a detection run (results.csv's
// columns the callbacks log), plus the "time" column.
var bigMetrics = []string{
	"train/box_loss", "train/cls_loss", "train/dfl_loss",
	"metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
	"val/box_loss", "val/cls_loss", "val/dfl_loss",
	"lr/pg0", "lr/pg1", "lr/pg2", "time",
}

// writeBigArchive writes a finished run of epochs epochs whose scalars
// table holds epochs × len(bigMetrics) rows, streamed to the writer so that
// the test itself holds none of them.
func writeBigArchive(tb testing.TB, epochs int64) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "big.tar.zst")
	const runID = "5eed5eed5eed5eed5eed5eed5eed5eed"
	h := schemas.Header{RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, Writer: "yoloarchive test", Tables: schemas.Tables}
	w, err := archive.Create(p, h, archive.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Abort()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	end := start.Add(time.Duration(epochs) * time.Second)
	version := "8.3.166"
	t := &archive.Tables{Info: schemas.RunRow{
		RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, SourceName: "big", Task: "detect", Mode: "train",
		UltralyticsVersion: &version, Project: "big", Name: "big", StartedAt: &start, EndedAt: &end,
		EpochsPlanned: &epochs, EpochsCompleted: epochs, Status: schemas.StatusFinished, Producer: schemas.ProducerUltralytics,
	}}
	scalars := func() error {
		return archive.WriteRowsFunc(w, schemas.TableScalars, func(emit func(...schemas.ScalarRow) error) error {
			batch := make([]schemas.ScalarRow, 0, len(bigMetrics))
			for e := int64(1); e <= epochs; e++ {
				batch = batch[:0]
				for i, m := range bigMetrics {
					v := float64(i) + 1/float64(e)
					if m == "time" {
						v = float64(e)
					}
					batch = append(batch, schemas.ScalarRow{Metric: m, Epoch: e, Value: v, Origin: "results.csv", Line: e + 1})
				}
				if err := emit(batch...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := t.Write(context.Background(), w, map[string]func() error{schemas.TableScalars: scalars}); err != nil {
		tb.Fatal(err)
	}
	if _, _, err := w.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return p
}

// peakLive samples the live heap (as of each garbage collection) while fn
// runs and returns its peak above the live heap before fn.
func peakLive(fn func()) (peak uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	runtime.GC() // sync.Pools are emptied over two collections
	base := read()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	runtime.GC() // the last garbage collection counts what fn still held at its end
	close(stop)
	<-done
	peak = max(peak, read())
	if peak < base {
		return 0
	}
	return peak - base
}

// TestOpen_StreamsBigTables: an opened Run does not hold the scalars
// table: opening 420k rows (30k epochs, 38 MB as []schemas.ScalarRow)
// peaks at about 10 MB of live heap, a row group's decoding and the
// per-epoch summary (the old Open loaded the table whole: 91 MB), and
// every row is still read, in table order, by ScanScalars.
func TestOpen_StreamsBigTables(t *testing.T) {
	const epochs = 30_000
	p := writeBigArchive(t, epochs)
	rows := epochs * len(bigMetrics)
	table := uint64(rows) * uint64(sizeofScalarRow)
	var run *ysync.Run
	held := peakLive(func() {
		var err error
		if run, err = ysync.Open(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	})
	defer run.Close()
	t.Logf("%d rows: Open peaks at %d KB of live heap (table in memory %d KB)", rows, held>>10, table>>10)
	if bound := table / 2; held > bound {
		t.Errorf("Open peaks at %d KB of live heap, want under %d KB (half the scalars table)", held>>10, bound>>10)
	}
	if got := run.Epochs(); got != epochs {
		t.Errorf("Epochs() = %d, want %d", got, epochs)
	}
	if got := run.MetricNames(); !slices.Equal(got, bigMetrics) {
		t.Errorf("MetricNames() = %v, want %v", got, bigMetrics)
	}
	if got := run.EpochTimes(); len(got) != epochs || got[epochs] != epochs {
		t.Errorf("EpochTimes() has %d epochs, last %v; want %d, %d", len(got), got[epochs], epochs, epochs)
	}
	n, last := 0, int64(0)
	err := run.ScanScalars(context.Background(), func(batch []schemas.ScalarRow) error {
		for _, s := range batch {
			if s.Epoch < last || s.Metric != bigMetrics[n%len(bigMetrics)] {
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
// streamed; what remains is each plan's copy of the points (see
// docs/performance.md).
func BenchmarkSync_BigScalars(b *testing.B) {
	const epochs = 150_000
	p := writeBigArchive(b, epochs)
	rows := epochs * int64(len(bigMetrics))
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
				start, cpu0 := time.Now(), cpuTime()
				peak = max(peak, peakLive(func() {
					res = ysync.One(context.Background(), p, tc.to(dir), ysync.BatchOptions{})
				}))
				cpu += cpuTime() - cpu0
				wall += time.Since(start)
				if res.Error != "" {
					b.Fatal(res.Error)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(peak>>20), "peak-live-MB")
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(wall.Seconds()/n, "wall-s")
			b.ReportMetric(cpu.Seconds()/n, "cpu-s")
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sizeofScalarRow is a scalar row's size in a []schemas.ScalarRow (its
// strings and pointers' targets not counted).
const sizeofScalarRow = unsafe.Sizeof(schemas.ScalarRow{})
