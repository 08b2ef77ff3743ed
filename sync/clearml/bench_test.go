package clearml_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// BenchmarkSync_Scalars: requests and wall time per 1,000 scalars (a run
// of 1,000 epochs: 15,000 scalars) into the fake server.
func BenchmarkSync_Scalars(b *testing.B) {
	archive := synctest.Capture(b, synctest.SynthRun(b, 1000, 2, 0))
	benchSync(b, archive, func(p *ysync.Plan) (float64, string) { return float64(p.Scalars+p.SingleValues) / 1000, "1k-scalars" })
}

// BenchmarkSync_Images: requests and wall time per 100 debug images.
func BenchmarkSync_Images(b *testing.B) {
	archive := synctest.Capture(b, synctest.SynthRun(b, 3, 100, 0))
	benchSync(b, archive, func(p *ysync.Plan) (float64, string) { return float64(p.Images+p.Plots) / 100, "100-images" })
}

func benchSync(b *testing.B, archive string, unit func(*ysync.Plan) (float64, string)) {
	var reqs int64
	var units float64
	var name string
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b)
		b.StartTimer()
		start := time.Now()
		r := e.sync(b, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: b.TempDir()}})
		elapsed += time.Since(start)
		if r.Status != ysync.StatusSynced {
			b.Fatalf("%s: %s", r.Status, r.Error)
		}
		reqs += r.Requests
		units, name = unit(r.Plan)
	}
	n := float64(b.N)
	b.ReportMetric(float64(reqs)/n/units, "req/"+name)
	b.ReportMetric(elapsed.Seconds()*1000/n/units, "ms/"+name)
}

// BenchmarkSync_PeakRSS syncs archives with growing weights through the
// real binary in a child process and reports its peak resident memory:
// blobs stream from the archive to a temporary file and from there to the
// file server, so it must stay flat as the archive grows.
func BenchmarkSync_PeakRSS(b *testing.B) {
	// The child's own rusage would include this process's memory (Go
	// starts children with vfork, and Linux carries the parent's peak
	// over at exec); GNU time forks for real and reports the child alone.
	timeBin, err := exec.LookPath("time")
	if err != nil {
		timeBin = "/usr/bin/time"
	}
	if _, err := os.Stat(timeBin); err != nil {
		b.Skip("GNU time is not installed (apt-get install time)")
	}
	bin := filepath.Join(b.TempDir(), "yoloarchive")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/yoloarchive").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for _, mb := range []int{16, 256} {
		b.Run(fmt.Sprintf("weights=%dMB", mb), func(b *testing.B) {
			archive := synctest.Capture(b, synctest.SynthRun(b, 300, 20, mb))
			var peak int64
			for b.Loop() {
				b.StopTimer()
				e := newEnv(b)
				b.StartTimer()
				cmd := exec.Command(timeBin, "-f", "maxrss=%M", bin, "sync", archive, "--to", "clearml", "--state-dir", b.TempDir())
				cmd.Env = append(os.Environ(), "CLEARML_API_HOST="+e.cfg.APIHost, "CLEARML_FILES_HOST="+e.cfg.FilesHost,
					"CLEARML_WEB_HOST="+e.cfg.WebHost, "CLEARML_API_ACCESS_KEY="+e.cfg.AccessKey,
					"CLEARML_API_SECRET_KEY="+e.cfg.SecretKey, "CLEARML_CONFIG_FILE=")
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("sync: %v\n%s", err, out)
				}
				i := strings.LastIndex(string(out), "maxrss=")
				if i < 0 {
					b.Fatalf("no maxrss in %s", out)
				}
				kb, _ := strconv.ParseInt(strings.TrimSpace(string(out[i+7:])), 10, 64)
				peak = max(peak, kb)
			}
			st, _ := os.Stat(archive)
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
			b.ReportMetric(float64(st.Size())/(1<<20), "archive-MB")
		})
	}
}
