package comet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// BenchmarkREST_Metrics: requests and wall time per 1,000 metric points
// over REST (one point per request, 8 at a time, no rate limit) against
// the fake server.
func BenchmarkREST_Metrics(b *testing.B) {
	archive := synctest.Capture(b, synctest.SynthRun(b, 200, 0, 0))
	var reqs int64
	var points float64
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b)
		e.r.SetClientOptions(ysync.ClientOptions{Limiter: rate.NewLimiter(rate.Inf, 0)})
		b.StartTimer()
		start := time.Now()
		r := e.sync(b, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: b.TempDir()}})
		elapsed += time.Since(start)
		if r.Status != ysync.StatusSynced {
			b.Fatal(r.Error)
		}
		reqs += r.Requests
		points = float64(r.Plan.Scalars) / 1000
	}
	n := float64(b.N)
	b.ReportMetric(float64(reqs)/n/points, "req/1k-points")
	b.ReportMetric(elapsed.Seconds()*1000/n/points, "ms/1k-points")
}

// BenchmarkOffline_Metrics: wall time per 1,000 metric points written to
// an offline zip, for runs of 200 and 1,000 epochs.
func BenchmarkOffline_Metrics(b *testing.B) {
	for _, epochs := range []int{200, 1000} {
		b.Run(fmt.Sprintf("epochs=%d", epochs), func(b *testing.B) { benchOfflineMetrics(b, epochs) })
	}
}

func benchOfflineMetrics(b *testing.B, epochs int) {
	archive := synctest.Capture(b, synctest.SynthRun(b, epochs, 0, 0))
	dir := b.TempDir()
	var points float64
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		r := ysync.One(context.Background(), archive, comet.NewOffline(dir, comet.Options{}), ysync.BatchOptions{})
		elapsed += time.Since(start)
		if r.Status != ysync.StatusWritten {
			b.Fatal(r.Error)
		}
		points = float64(r.Plan.Scalars) / 1000
	}
	b.ReportMetric(0, "req/1k-points")
	b.ReportMetric(elapsed.Seconds()*1000/float64(b.N)/points, "ms/1k-points")
}

// BenchmarkREST_Run300: one 300-epoch run (3,907 metric points, 105
// parameters, 9 images) synced over REST to the fake server, unthrottled:
// requests and wall time of the first sync and of a re-sync from another
// machine (synctest.BenchRun300).
func BenchmarkREST_Run300(b *testing.B) {
	synctest.BenchRun300(b, func(b *testing.B) ysync.Target { return newEnv(b).r })
}
