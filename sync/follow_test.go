package sync_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
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
func loadTables(t *testing.T, path string) *archive.Tables {
	t.Helper()
	a, err := archive.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tables, err := archive.LoadTables(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// sameTables compares two runs' tables table by table.
func sameTables(t *testing.T, what string, got, want *archive.Tables) {
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
		if got.Info.Status != schemas.StatusFinished || got.Info.EpochsCompleted != 6 {
			t.Errorf("compacted run: status %s, %d epochs", got.Info.Status, got.Info.EpochsCompleted)
		}
		sameTables(t, "compacted chain", got, want)
	}
}

var hostRe = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// clearmlContent is a ClearML task's events in comparable form: every
// event but its task id, timestamp and the task id in image URLs.
func clearmlContent(evs []clearmltest.Event, task string) map[string]int {
	out := map[string]int{}
	norm := func(s string) string { return hostRe.ReplaceAllString(strings.ReplaceAll(s, task, "T"), "HOST") }
	for _, e := range evs {
		out[fmt.Sprintf("%s|%s|%s|%d|%v|%s|%s", e.Type, e.Metric, e.Variant, e.Iter, e.Value, norm(e.URL), norm(e.PlotStr))]++
	}
	return out
}

// cometContent is a Comet experiment's metric points and assets, as
// counts (Comet keeps duplicates, so a point sent twice shows).
func cometContent(e comettest.Experiment) map[string]int {
	out := map[string]int{}
	for _, m := range e.Metrics {
		out[fmt.Sprintf("metric %s|%s|%s|%v", m.Name, optInt(m.Step), optInt(m.Epoch), m.Value)]++
	}
	for _, a := range e.Assets {
		out[fmt.Sprintf("asset %s|%s|%s|%s", a.FileName, a.Type, optInt(a.Step), a.GroupingName)]++
	}
	return out
}

func optInt(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func sameCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %s: %d, want %d", what, k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s (%d)", what, k, n)
		}
	}
}

// TestFollow_SyncWhileTraining: a followed training run synced from "cron"
// every few looks, to both test servers, with syncs killed at random
// requests. In the end each server holds one run, completed, with exactly
// the data a single sync of the finished run's archive gives: each point
// once. While training, the remote run stays open.
func TestFollow_SyncWhileTraining(t *testing.T) {
	for _, kill := range []bool{false, true} {
		t.Run(fmt.Sprintf("kill=%v", kill), func(t *testing.T) {
			tr := synctest.NewTraining(t, "live", 6)
			base := filepath.Join(t.TempDir(), "run.tar.zst")
			f := follower(t, tr, base)
			defer f.Close()
			fk := newFakes(t)
			store := &ysync.Store{Dir: t.TempDir()}
			rng := rand.New(rand.NewSource(5))
			counts := map[string]int{}
			sync := func(r ysync.Target, faults *synctest.Faults) {
				if _, err := os.Stat(chain.LinkPath(base, 0)); err != nil {
					return
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if kill && rng.Intn(2) == 0 {
					faults.CancelAfter(1+rng.Intn(30), cancel)
					defer faults.Clear()
				}
				res := ysync.One(ctx, base, r, ysync.BatchOptions{Store: store})
				counts[r.Tracker()+" "+res.Status]++
				switch res.Status {
				case ysync.StatusSynced, ysync.StatusPartial, ysync.StatusUpToDate:
				case ysync.StatusInterrupted:
					if !kill {
						t.Fatalf("%s: interrupted", r.Tracker())
					}
				default:
					t.Fatalf("%s: %s: %s", r.Tracker(), res.Status, res.Error)
				}
			}
			openSeen := false
			for i := 0; !f.Final(); i++ {
				if i > 1000 {
					t.Fatal("the follower never wrote the final link")
				}
				if !tr.Done() {
					tr.Step()
				} else {
					tr.Wait(5 * time.Second)
				}
				step(t, context.Background(), f)
				if i%4 == 3 {
					sync(fk.cr, fk.cml.Faults)
					sync(fk.mr, fk.cmt.Faults)
					if ts := fk.cml.Tasks(); len(ts) == 1 && ts[0].Status == "in_progress" {
						openSeen = true
					}
				}
			}
			for _, r := range []ysync.Target{fk.cr, fk.mr} {
				res := ysync.One(context.Background(), base, r, ysync.BatchOptions{Store: store})
				if res.Status != ysync.StatusSynced && res.Status != ysync.StatusUpToDate {
					t.Fatalf("%s final sync: %s %s", r.Tracker(), res.Status, res.Error)
				}
				if again := ysync.One(context.Background(), base, r, ysync.BatchOptions{Store: store}); again.Status != ysync.StatusUpToDate {
					t.Errorf("%s: a second sync of the final chain: %s, want up-to-date", r.Tracker(), again.Status)
				}
			}
			t.Logf("syncs: %v", counts)
			if !openSeen {
				t.Error("the ClearML task was never seen in progress while training")
			}

			full := filepath.Join(t.TempDir(), "full.tar.zst")
			if _, err := convert.Capture(context.Background(), tr.Dir, full, convert.Options{Workers: 2}); err != nil {
				t.Fatal(err)
			}
			ref := newFakes(t)
			for _, r := range []ysync.Target{ref.cr, ref.mr} {
				if res := ysync.One(context.Background(), full, r, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}}); res.Status != ysync.StatusSynced {
					t.Fatalf("reference %s: %s", r.Tracker(), res.Error)
				}
			}
			tasks, refTasks := fk.cml.Tasks(), ref.cml.Tasks()
			if len(tasks) != 1 || tasks[0].Status != "completed" {
				t.Fatalf("ClearML: %d tasks (%+v), want one, completed", len(tasks), tasks)
			}
			sameCounts(t, "ClearML events", clearmlContent(fk.cml.Events(tasks[0].ID), tasks[0].ID), clearmlContent(ref.cml.Events(refTasks[0].ID), refTasks[0].ID))
			if n := len(fk.cml.Models()); n != 1 {
				t.Errorf("ClearML: %d models, want 1", n)
			}
			if !kill {
				writes, events := fk.cml.EventWrites(tasks[0].ID), len(fk.cml.Events(tasks[0].ID))
				t.Logf("ClearML: %d event writes for %d events", writes, events)
				if writes > events+events/5 {
					t.Errorf("ClearML: %d event writes for %d events: the syncs re-sent history", writes, events)
				}
			}
			exps, refExps := fk.cmt.Experiments(), ref.cmt.Experiments()
			if len(exps) != 1 || exps[0].Alive {
				t.Fatalf("Comet: %d experiments, want one, ended", len(exps))
			}
			sameCounts(t, "Comet", cometContent(exps[0]), cometContent(refExps[0]))
			if kill {
				return
			}

			// An earlier state synced after the final one (a lagging copy
			// of the links, a compaction of the run so far) changes
			// nothing: both report the remote run ahead of it.
			early := filepath.Join(t.TempDir(), "run.tar.zst")
			links, _, _ := chain.Files(base)
			for i, l := range links[:len(links)/2] {
				data, _ := os.ReadFile(l)
				os.WriteFile(chain.LinkPath(early, i), data, 0o644)
			}
			before, end := len(fk.cml.Events(tasks[0].ID)), *exps[0].EndMillis
			if res := ysync.One(context.Background(), early, fk.cr, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}}); res.Status != ysync.StatusBehind {
				t.Errorf("ClearML, an earlier state after the final: %s %s", res.Status, res.Error)
			}
			if res := ysync.One(context.Background(), early, fk.mr, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}}); res.Status != ysync.StatusBehind {
				t.Errorf("Comet, an earlier state after the final: %s %s", res.Status, res.Error)
			}
			task, _ := fk.cml.Task(tasks[0].ID)
			exps = fk.cmt.Experiments()
			if n := len(fk.cml.Events(tasks[0].ID)); n != before || task.Status != "completed" || *exps[0].EndMillis != end || exps[0].Alive {
				t.Errorf("an earlier state changed the runs: %d events (was %d), task %s, Comet end %d (was %d), alive %v", n, before, task.Status, *exps[0].EndMillis, end, exps[0].Alive)
			}
			sameCounts(t, "Comet after an earlier state", cometContent(exps[0]), cometContent(refExps[0]))
			off := comet.NewOffline(t.TempDir(), comet.Options{})
			if res := ysync.One(context.Background(), early, off, ysync.BatchOptions{}); res.Status != ysync.StatusFailed || !strings.Contains(res.Error, "still training") {
				t.Errorf("offline export of an unfinished chain: %s %s", res.Status, res.Error)
			}
		})
	}
}

// TestFollow_OptionsMustMatch: a follower restarted with other capture
// options refuses the chain instead of mixing two captures in it.
func TestFollow_OptionsMustMatch(t *testing.T) {
	tr := synctest.NewTraining(t, "opts", 3)
	base := filepath.Join(t.TempDir(), "run.tar.zst")
	f := follower(t, tr, base)
	for f.Links() == 0 {
		tr.Step()
		step(t, context.Background(), f)
	}
	f.Close()
	_, err := convert.NewFollower(context.Background(), tr.Dir, base, convert.FollowOptions{Capture: convert.Options{NoWeights: true}, Now: tr.Now})
	if err == nil || !strings.Contains(err.Error(), "captured with options") {
		t.Errorf("restart with --no-weights: %v", err)
	}
}

// TestFollow_PlotsOff: without plots there is no results.png to mark the
// end, so the final link waits until the directory was quiet for Quiet:
// never before the last file was written.
func TestFollow_PlotsOff(t *testing.T) {
	tr := synctest.NewTraining(t, "noplots", 3)
	tr.Step()
	tr.Step() // args.yaml is written
	p := filepath.Join(tr.Dir, "args.yaml")
	args, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(args), "\nplots: true\n", "\nplots: false\n", 1)), 0o644)
	os.Chtimes(p, tr.Now(), tr.Now())
	f, err := convert.NewFollower(context.Background(), tr.Dir, filepath.Join(t.TempDir(), "run.tar.zst"),
		convert.FollowOptions{Capture: convert.Options{Workers: 2}, Now: tr.Now, Quiet: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for !tr.Done() {
		tr.Step()
		step(t, context.Background(), f)
		if f.Final() {
			t.Fatal("final link before training ended")
		}
	}
	tr.Wait(30 * time.Second)
	if step(t, context.Background(), f); f.Final() {
		t.Fatal("final link before the directory was quiet for a minute")
	}
	tr.Wait(31 * time.Second)
	if step(t, context.Background(), f); !f.Final() {
		t.Fatal("no final link after a quiet minute")
	}
}

// TestFollow_SyncKilledAtEveryRequest: a chain whose first half was synced
// gets its second half synced, killed at request 1, then (on fresh
// servers) at request 2, 3, … until the sync completes without being
// killed; after each kill a second sync finishes the job. Every kill
// point ends with exactly the data of one uninterrupted sync, for both
// trackers.
func TestFollow_SyncKilledAtEveryRequest(t *testing.T) {
	tr := synctest.NewTraining(t, "everykill", 3)
	base := filepath.Join(t.TempDir(), "run.tar.zst")
	f := follower(t, tr, base)
	for !f.Final() {
		if !tr.Done() {
			tr.Step()
		} else {
			tr.Wait(5 * time.Second)
		}
		step(t, context.Background(), f)
	}
	f.Close()
	links, _, _ := chain.Files(base)
	half := filepath.Join(t.TempDir(), "run.tar.zst")
	for i, l := range links[:len(links)/2] {
		data, _ := os.ReadFile(l)
		os.WriteFile(chain.LinkPath(half, i), data, 0o644)
	}

	ref := newFakes(t)
	for _, r := range []ysync.Target{ref.cr, ref.mr} {
		if res := ysync.One(context.Background(), base, r, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}}); res.Status != ysync.StatusSynced {
			t.Fatal(res.Status, res.Error)
		}
	}
	want := map[string]map[string]int{
		"clearml": clearmlContent(ref.cml.Events(ref.cml.Tasks()[0].ID), ref.cml.Tasks()[0].ID),
		"comet":   cometContent(ref.cmt.Experiments()[0]),
	}
	for _, tracker := range []string{"clearml", "comet"} {
		kills := 0
		for n := 1; ; n++ {
			fk := newFakes(t)
			r, faults := ysync.Target(fk.cr), fk.cml.Faults
			if tracker == "comet" {
				r, faults = fk.mr, fk.cmt.Faults
			}
			store := &ysync.Store{Dir: t.TempDir()}
			if res := ysync.One(context.Background(), half, r, ysync.BatchOptions{Store: store}); res.Status != ysync.StatusPartial {
				t.Fatalf("%s: first half: %s %s", tracker, res.Status, res.Error)
			}
			ctx, cancel := context.WithCancel(context.Background())
			faults.CancelAfter(n, cancel)
			res := ysync.One(ctx, base, r, ysync.BatchOptions{Store: store})
			cancel()
			faults.Clear()
			if res.Status == ysync.StatusSynced {
				t.Logf("%s: killed at each of the first %d requests of the second sync", tracker, kills)
				break
			}
			kills++
			if res.Status != ysync.StatusInterrupted {
				t.Fatalf("%s, killed at request %d: %s %s", tracker, n, res.Status, res.Error)
			}
			// Killed after its last request, before its checkpoint: the
			// server has it all, so the next sync finds it up to date.
			if res := ysync.One(context.Background(), base, r, ysync.BatchOptions{Store: store}); res.Status != ysync.StatusSynced && res.Status != ysync.StatusUpToDate {
				t.Fatalf("%s, after a kill at request %d: %s %s", tracker, n, res.Status, res.Error)
			}
			var got map[string]int
			if tracker == "clearml" {
				tasks := fk.cml.Tasks()
				if len(tasks) != 1 || tasks[0].Status != "completed" {
					t.Fatalf("clearml, kill at %d: %d tasks", n, len(tasks))
				}
				got = clearmlContent(fk.cml.Events(tasks[0].ID), tasks[0].ID)
			} else {
				exps := fk.cmt.Experiments()
				if len(exps) != 1 || exps[0].Alive {
					t.Fatalf("comet, kill at %d: %d experiments", n, len(exps))
				}
				got = cometContent(exps[0])
			}
			sameCounts(t, fmt.Sprintf("%s, kill at request %d", tracker, n), got, want[tracker])
			if t.Failed() {
				return
			}
		}
	}
}
