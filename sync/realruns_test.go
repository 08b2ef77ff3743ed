package sync_test

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestRealRuns replays the 27 real public run directories (Ultralytics
// 8.0 to 8.4, every task, val directories, YOLOv5) into the fake ClearML
// and Comet servers and the offline formats: each must sync completely,
// with one scalar event / metric point per tracker value of its
// results.csv.
func TestRealRuns(t *testing.T) {
	root := filepath.Join(synctest.Fixtures(), "..", "github-runs", "public")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakes(t)
	cr, mr := f.cr, f.mr
	n := 0
	for _, e := range entries {
		if !e.IsDir() || strings.Contains(e.Name(), "labels") {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			archive := synctest.Capture(t, filepath.Join(root, e.Name()))
			run, err := ysync.Open(context.Background(), archive)
			if err != nil {
				t.Fatal(err)
			}
			run.Scalars = synctest.Scalars(t, run) // streamed, not held
			defer run.Close()
			tracker := 0
			for _, s := range run.Scalars {
				if ysync.IsTrackerMetric(s.Metric) {
					tracker++
				}
			}
			store := &ysync.Store{Dir: t.TempDir()}
			for _, r := range []ysync.Target{cr, mr, clearml.NewOffline(t.TempDir(), ysync.Options{}), comet.NewOffline(t.TempDir(), comet.Options{})} {
				res := ysync.One(context.Background(), archive, r, ysync.BatchOptions{Store: store})
				if !res.OK() {
					t.Errorf("%s: %s %s", r.Destination(), res.Status, res.Error)
					continue
				}
				if res.Plan.Scalars < tracker {
					t.Errorf("%s: %d scalars planned, results.csv has %d tracker values", r.Destination(), res.Plan.Scalars, tracker)
				}
				if strings.HasPrefix(r.Destination(), "comet-offline") {
					zr, err := zip.OpenReader(res.Output)
					if err != nil {
						t.Fatal(err)
					}
					zr.Close()
				}
			}
		})
	}
	if n < 25 {
		t.Errorf("only %d real runs found", n)
	}
}
