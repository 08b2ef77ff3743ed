package mlflow_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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
