package mlflow_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive/memtest"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// BenchmarkREST_Run300: requests and wall time per 1,000 scalars of a
// 300-epoch run (about 4,000 points) synced over REST against the fake
// server, read-back included: a first sync, and a re-sync from another
// machine (no checkpoint), which only reads (synctest.BenchRun300).
func BenchmarkREST_Run300(b *testing.B) {
	synctest.BenchRun300(b, func(b *testing.B) ysync.Target { return newEnv(b, nil).r })
}

// BenchmarkDir_Run300: wall time per 1,000 scalars of the same run
// written to an MLflow file store (every write fsynced, as MLflow's
// FileStore does not, so this is the careful bound).
func BenchmarkDir_Run300(b *testing.B) {
	archive := synctest.Capture(b, synctest.SynthRun(b, 300, 0, 0))
	dir := filepath.Join(b.TempDir(), "mlruns")
	var points float64
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		r := ysync.One(context.Background(), archive, mlflow.NewDir(dir, mlflow.Options{}), ysync.BatchOptions{})
		elapsed += time.Since(start)
		if r.Status != ysync.StatusWritten {
			b.Fatal(r.Error)
		}
		points = float64(r.Plan.Scalars) / 1000
	}
	b.ReportMetric(elapsed.Seconds()*1000/float64(b.N)/points, "ms/1k-scalars")
}

// BenchmarkREST_BigScalars: peak heap, wall and CPU time of 2.1 M scalar
// rows (150k epochs, 1.95 M points) synced over REST to the fake server,
// read-back included, as BenchmarkSync_BigScalars measures the offline
// writers. client-heap-MB is the peak less what the fake server still
// holds after the sync (every point it received); resync-heap-MB is the
// peak of a second sync from another machine (no checkpoint: every
// history read back, nothing sent; outside the timings);
// requests/1k-scalars counts every request of the first.
func BenchmarkREST_BigScalars(b *testing.B) {
	const epochs = 150_000
	p := synctest.BigArchive(b, epochs)
	var peak, client, resync uint64
	var cpu, wall time.Duration
	var res, res2 ysync.Result
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, nil)
		base := memtest.HeapNow()
		b.StartTimer()
		start, cpu0 := time.Now(), synctest.CPUTime()
		var held uint64
		top, _ := memtest.PeakHeap(func() error {
			res = ysync.One(context.Background(), p, e.r, ysync.BatchOptions{Store: &ysync.Store{Dir: b.TempDir()}})
			now := memtest.HeapNow()
			held = now - min(base, now)
			return nil
		})
		cpu += synctest.CPUTime() - cpu0
		wall += time.Since(start)
		if res.Status != ysync.StatusSynced {
			b.Fatal(res.Status, res.Error)
		}
		peak, client = max(peak, top), max(client, top-min(held, top))
		b.StopTimer()
		// Again from another machine: reads only, the fake's store does
		// not grow.
		top, _ = memtest.PeakHeap(func() error {
			res2 = ysync.One(context.Background(), p, e.r, ysync.BatchOptions{Store: &ysync.Store{Dir: b.TempDir()}})
			return nil
		})
		if res2.Status != ysync.StatusUpToDate {
			b.Fatal(res2.Status, res2.Error)
		}
		resync = max(resync, top)
		e.srv.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(peak>>20), "peak-heap-MB")
	b.ReportMetric(float64(client>>20), "client-heap-MB")
	b.ReportMetric(float64(resync>>20), "resync-heap-MB")
	b.ReportMetric(float64(res.Plan.Scalars), "scalars")
	b.ReportMetric(float64(res.Requests)*1000/float64(res.Plan.Scalars), "requests/1k-scalars")
	b.ReportMetric(wall.Seconds()/n, "wall-s")
	b.ReportMetric(cpu.Seconds()/n, "cpu-s")
}
