package comet_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// synthRun writes a finished detect run with epochs rows of results.csv
// (13 tracker metrics per epoch).
func synthRun(tb testing.TB, epochs int) string {
	tb.Helper()
	src := filepath.Join(synctest.Fixtures(), "detect")
	dir := filepath.Join(tb.TempDir(), "detect")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(src, "args.yaml"))
	os.WriteFile(filepath.Join(dir, "args.yaml"), []byte(strings.Replace(string(args), "\nepochs: 3\n", fmt.Sprintf("\nepochs: %d\n", epochs), 1)), 0o644)
	var csv strings.Builder
	csv.WriteString("epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n")
	rng := rand.New(rand.NewSource(1))
	for e := 1; e <= epochs; e++ {
		fmt.Fprintf(&csv, "%d,%.3f", e, float64(e)*31.7)
		for i := 0; i < 13; i++ {
			fmt.Fprintf(&csv, ",%.5g", rng.Float64())
		}
		csv.WriteString("\n")
	}
	os.WriteFile(filepath.Join(dir, "results.csv"), []byte(csv.String()), 0o644)
	return dir
}

// BenchmarkREST_Metrics: requests and wall time per 1,000 metric points
// over REST (one point per request, 8 at a time, no rate limit) against
// the fake server.
func BenchmarkREST_Metrics(b *testing.B) {
	archive := synctest.Capture(b, synthRun(b, 200))
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
// an offline zip.
func BenchmarkOffline_Metrics(b *testing.B) {
	archive := synctest.Capture(b, synthRun(b, 200))
	dir := b.TempDir()
	var points float64
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		r := ysync.One(context.Background(), archive, comet.NewOffline(dir, comet.BuildOptions{}), ysync.BatchOptions{})
		elapsed += time.Since(start)
		if r.Status != ysync.StatusWritten {
			b.Fatal(r.Error)
		}
		points = float64(r.Plan.Scalars) / 1000
	}
	b.ReportMetric(0, "req/1k-points")
	b.ReportMetric(elapsed.Seconds()*1000/float64(b.N)/points, "ms/1k-points")
}
