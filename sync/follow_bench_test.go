package sync_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/convert"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// BenchmarkFollowSync: a 40-epoch run followed as it trains and synced
// after every epoch's link to both test servers, against the alternative
// without chains: a full capture of the run directory at the same moments,
// each synced as a new archive of the same run. Reported per epoch synced:
// requests and wall time of the syncs, ClearML events written per event
// the run ends with, and Comet requests that carry metric points (batches
// of up to 1,000, or single points for a server without batches); and the
// follower's time per look and links written.
func BenchmarkFollowSync(b *testing.B) {
	for _, mode := range []string{"chain", "full"} {
		b.Run(mode, func(b *testing.B) {
			var reqs, syncs, looks, links int64
			var syncTime, lookTime time.Duration
			var writes, events, posts float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tr := synctest.NewTraining(b, "bench", 40)
				base := filepath.Join(b.TempDir(), "run.tar.zst")
				f, err := convert.NewFollower(context.Background(), tr.Dir, base, convert.FollowOptions{Capture: convert.Options{Workers: 2}, Now: tr.Now})
				if err != nil {
					b.Fatal(err)
				}
				fk := newFakes(b)
				store := &ysync.Store{Dir: b.TempDir()}
				epochs := int64(0)
				for !f.Final() {
					if !tr.Done() {
						tr.Step()
					} else {
						tr.Wait(5 * time.Second)
					}
					t0 := time.Now()
					link, err := f.Step(context.Background())
					lookTime += time.Since(t0)
					looks++
					if link != nil {
						links++
					}
					if err != nil || link == nil || (link.Epochs == epochs && !link.Final) {
						continue
					}
					epochs = link.Epochs
					path := base
					if mode == "full" {
						path = filepath.Join(b.TempDir(), "full.tar.zst")
						if _, err := convert.Capture(context.Background(), tr.Dir, path, convert.Options{Workers: 2}); err != nil {
							continue // mid-write: the follower waited too
						}
					}
					b.StartTimer()
					start := time.Now()
					for _, r := range []ysync.Target{fk.cr, fk.mr} {
						res := ysync.One(context.Background(), path, r, ysync.BatchOptions{Store: store})
						if !res.OK() {
							b.Fatalf("%s: %s %s", r.Tracker(), res.Status, res.Error)
						}
						reqs += res.Requests
					}
					syncTime += time.Since(start)
					syncs++
					b.StopTimer()
				}
				f.Close()
				task := fk.cml.Tasks()[0].ID
				writes += float64(fk.cml.EventWrites(task))
				events += float64(len(fk.cml.Events(task)))
				posts += float64(fk.cmt.Calls("write/experiment/metric") + fk.cmt.Calls("clientlib/batch/logger/experiment/metric"))
			}
			b.ReportMetric(float64(reqs)/float64(syncs), "req/sync")
			b.ReportMetric(syncTime.Seconds()*1000/float64(syncs), "ms/sync")
			b.ReportMetric(writes/events, "clearml-writes/event")
			b.ReportMetric(posts/float64(syncs), "comet-metric-req/sync")
			b.ReportMetric(float64(syncs)/float64(b.N), "syncs")
			b.ReportMetric(lookTime.Seconds()*1000/float64(looks), "ms/look")
			b.ReportMetric(float64(links)/float64(b.N), "links")
		})
	}
}
