package synctest

import (
	"context"
	"syscall"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// BenchRun300 is every REST destination's BenchmarkREST_Run300: a
// synthetic 300-epoch run synced to a fresh fake server each iteration
// (target returns the Target that reaches it), then synced again from
// another machine (no checkpoint: found, read back, nothing sent). It
// reports requests and wall time per run (req/run, ms/run, req/resync,
// ms/resync) and per 1,000 scalars (req/1k-scalars, ms/1k-scalars and
// the same with resync-).
func BenchRun300(b *testing.B, target func(b *testing.B) ysync.Target) {
	archive := Capture(b, SynthRun(b, 300, 0, 0))
	var reqs, again int64
	var first, other time.Duration
	var scalars float64
	for b.Loop() {
		b.StopTimer()
		t := target(b)
		b.StartTimer()
		start := time.Now()
		r := ysync.One(context.Background(), archive, t, ysync.BatchOptions{Store: &ysync.Store{Dir: b.TempDir()}})
		first += time.Since(start)
		if r.Status != ysync.StatusSynced {
			b.Fatal(r.Status, r.Error)
		}
		start = time.Now()
		o := ysync.One(context.Background(), archive, t, ysync.BatchOptions{Store: &ysync.Store{Dir: b.TempDir()}})
		other += time.Since(start)
		if o.Status != ysync.StatusUpToDate {
			b.Fatal(o.Status, o.Error)
		}
		reqs += r.Requests
		again += o.Requests
		scalars = float64(r.Plan.Scalars)
	}
	n := float64(b.N)
	b.ReportMetric(float64(reqs)/n, "req/run")
	b.ReportMetric(first.Seconds()*1000/n, "ms/run")
	b.ReportMetric(float64(again)/n, "req/resync")
	b.ReportMetric(other.Seconds()*1000/n, "ms/resync")
	k := scalars / 1000
	b.ReportMetric(float64(reqs)/n/k, "req/1k-scalars")
	b.ReportMetric(first.Seconds()*1000/n/k, "ms/1k-scalars")
	b.ReportMetric(float64(again)/n/k, "resync-req/1k-scalars")
	b.ReportMetric(other.Seconds()*1000/n/k, "resync-ms/1k-scalars")
}

// CPUTime is the user and system CPU time this process has used, for
// benchmarks that report CPU beside wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
