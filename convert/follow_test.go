package convert_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestFollow_OneIDFromStartToEnd follows a run while it trains: no link
// is written before the first results.csv row (the id comes from it),
// every link holds the id of a capture of the finished run, and so does
// a copy of the directory taken mid-way.
func TestFollow_OneIDFromStartToEnd(t *testing.T) {
	tr := synctest.NewTraining(t, "ident", 3)
	base := filepath.Join(t.TempDir(), "run.tar.zst")
	f, err := convert.NewFollower(context.Background(), tr.Dir, base, convert.FollowOptions{
		Capture: convert.Options{Workers: 1}, Now: tr.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var midway []string
	waited := false
	for i := 0; !f.Final(); i++ {
		if i > 500 {
			t.Fatal("no final link")
		}
		if !tr.Done() {
			tr.Step()
		} else {
			tr.Wait(5 * time.Second)
		}
		hasRow, whole := false, false
		if data, err := os.ReadFile(filepath.Join(tr.Dir, "results.csv")); err == nil {
			hasRow = strings.Count(string(data), "\n") >= 2
			whole = strings.HasSuffix(string(data), "\n")
		}
		link, err := f.Step(context.Background())
		if err != nil && !errors.Is(err, convert.ErrNotReady) {
			t.Fatal(err)
		}
		if err != nil && strings.Contains(err.Error(), "no results.csv row yet") {
			waited = true
		}
		if link != nil && link.Seq == 0 && !hasRow {
			t.Fatal("link 0 was written before results.csv had a row")
		}
		if hasRow && whole && len(midway) < 2 && i%7 == 0 {
			midway = append(midway, copyDir(t, tr.Dir))
		}
	}
	if !waited {
		t.Error("the follower never waited for the first row")
	}
	want := readID(t, tr.Dir)
	paths, _, err := chain.Files(base)
	if err != nil || len(paths) < 3 {
		t.Fatalf("%d links: %v", len(paths), err)
	}
	for _, p := range paths {
		h, err := archive.ReadHeader(p)
		if err != nil || h.RunID != want {
			t.Errorf("%s: run %s, the finished run's capture %s (%v)", filepath.Base(p), h.RunID, want, err)
		}
	}
	id, err := func() (string, error) {
		_, id, err := convert.Identify(context.Background(), tr.Dir, convert.Options{})
		return id, err
	}()
	if err != nil || id != want {
		t.Errorf("Identify: %s, %v; want %s", id, err, want)
	}
	for _, m := range midway {
		if got := readID(t, m); got != want {
			t.Errorf("a copy taken mid-way has id %s, want %s", got, want)
		}
	}
}
