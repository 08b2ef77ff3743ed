package sync_test

import (
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// follower opens a follower of the training's run directory into the
// chain base, on the training's clock.
func follower(t *testing.T, tr *synctest.Training, base string) *convert.Follower {
	t.Helper()
	f, err := convert.NewFollower(context.Background(), tr.Dir, base, convert.FollowOptions{
		Capture: convert.Options{Workers: 2}, Now: tr.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// step looks once; a look that finds the directory mid-write is fine.
func step(t *testing.T, ctx context.Context, f *convert.Follower) *convert.Link {
	t.Helper()
	link, err := f.Step(ctx)
	if err != nil && !errors.Is(err, convert.ErrNotReady) && ctx.Err() == nil {
		t.Fatal(err)
	}
	return link
}

// loadTables reads every table of a complete archive.
func loadTables(t *testing.T, path string) *chain.Tables {
	t.Helper()
	a, err := archive.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tables, err := chain.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// sameTables compares two runs' tables table by table.
func sameTables(t *testing.T, what string, got, want *chain.Tables) {
	t.Helper()
	g, w := reflect.ValueOf(*got), reflect.ValueOf(*want)
	for i := 0; i < g.NumField(); i++ {
		name := g.Type().Field(i).Name
		a, b := g.Field(i).Interface(), w.Field(i).Interface()
		if g.Field(i).Kind() == reflect.Slice && g.Field(i).Len() == 0 && w.Field(i).Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: table %s differs from a capture of the finished run:\n got %+v\nwant %+v", what, name, a, b)
		}
	}
}

// TestFollow_KilledAnywhere follows a training run while it is written,
// killing the follower at random points (mid-look, mid-write, leaving a
// temporary file behind) and starting a new one each time. The chain ends
// with a final link, and its merged tables, compacted, equal those of one
// capture of the finished run: nothing lost, nothing doubled.
func TestFollow_KilledAnywhere(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		tr := synctest.NewTraining(t, "follow", 6)
		base := filepath.Join(t.TempDir(), "run.tar.zst")
		rng := rand.New(rand.NewSource(seed))
		f := follower(t, tr, base)
		kills, links := 0, 0
		for i := 0; !f.Final(); i++ {
			if i > 2000 {
				t.Fatal("the follower never wrote the final link")
			}
			if !tr.Done() {
				tr.Step()
			} else {
				tr.Wait(5 * time.Second)
			}
			if rng.Intn(3) == 0 {
				// Kill it during a look: cancel after a random delay.
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(time.Duration(rng.Intn(4000))*time.Microsecond, cancel)
				if step(t, ctx, f) != nil {
					links++
				}
				cancel()
				f.Close()
				if rng.Intn(2) == 0 {
					// A kill -9 mid-write leaves the writer's temporary file.
					os.WriteFile(filepath.Join(filepath.Dir(base), ".run.999.tar.zst.12345.tmp"), []byte("partial"), 0o644)
				}
				f = follower(t, tr, base)
				kills++
				continue
			}
			if step(t, context.Background(), f) != nil {
				links++
			}
		}
		f.Close()
		if !tr.Done() {
			t.Errorf("seed %d: the chain was final before training ended", seed)
		}
		paths, orphans, err := chain.Files(base)
		if err != nil || len(orphans) > 0 {
			t.Fatal(err, orphans)
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(base), ".*.tmp"))
		if len(leftovers) > 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
		t.Logf("seed %d: %d steps, %d kills, %d links", seed, tr.Steps(), kills, len(paths))

		compact := filepath.Join(t.TempDir(), "compact.tar.zst")
		if _, err := convert.Compact(context.Background(), base, compact, convert.Options{}); err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(t.TempDir(), "full.tar.zst")
		if _, err := convert.Capture(context.Background(), tr.Dir, full, convert.Options{Workers: 2}); err != nil {
			t.Fatal(err)
		}
		got, want := loadTables(t, compact), loadTables(t, full)
		if got.Run.Status != schemas.StatusFinished || got.Run.EpochsCompleted != 6 {
			t.Errorf("compacted run: status %s, %d epochs", got.Run.Status, got.Run.EpochsCompleted)
		}
		sameTables(t, "compacted chain", got, want)
	}
}
