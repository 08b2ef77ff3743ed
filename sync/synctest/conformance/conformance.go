// Package conformance is the test suite every sync destination runs
// against its own fake server (see Run): what the replay core promises,
// checked the same way for each tracker.
package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
	"github.com/yoloarchive/yoloarchive/sync/synctest/faults"
)

// Fake is one fake server and a destination pointed at it.
type Fake struct {
	// Dest is the destination; Run makes it retry fast (Quick).
	Dest ysync.Destination
	// Faults wraps every server of the fake.
	Faults *faults.Faults
	// Snapshot describes what the server holds, one fact a line (Run
	// sorts them), without what differs between two equal syncs (ids,
	// times, keys). Facts that a tracker appends on every write (ClearML's
	// console lines) are left out: a batch re-sent after a kill may add
	// them twice, as the SDK's own retry would.
	Snapshot func() []string
	// Runs counts the remote runs (tasks, experiments), replaced ones
	// included.
	Runs func() int
}

// Secret is the credential a destination made with badKey (or by At)
// uses: the fake refuses it, and no result may show it.
const Secret = "conformance-secret"

// Quick are the client options of the suite's destinations: retries
// milliseconds apart.
var Quick = ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}

// Harness starts fakes of one destination.
type Harness struct {
	// New starts a fake (closed when t ends). With badKey the destination
	// uses Secret for its credential, which the fake refuses.
	New func(t *testing.T, badKey bool) Fake
	// At returns a destination pointed at a server address where nothing
	// answers (see synctest.UnreachableURL), with Secret as credential.
	At func(url string) (ysync.Destination, error)
	// Golden is the file that holds what the destination's dry runs say
	// (default testdata/dryrun.golden); -conformance.update rewrites it.
	Golden string
}

// tuner is a destination whose HTTP client can be tuned (every tracker's).
type tuner interface {
	SetClientOptions(ysync.ClientOptions)
}

// quick makes d retry fast.
func quick(t *testing.T, d ysync.Destination) {
	t.Helper()
	q, ok := d.(tuner)
	if !ok {
		t.Fatalf("%T has no SetClientOptions: the suite cannot make it retry fast", d)
	}
	q.SetClientOptions(Quick)
}

var update = flag.Bool("conformance.update", false, "rewrite the conformance suite's golden files")

// checkGolden compares lines with the golden file at path.
func checkGolden(t *testing.T, path string, lines []string) {
	t.Helper()
	got := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (make it with -conformance.update)", err)
	}
	if got != string(want) {
		t.Fatalf("the dry runs differ from %s:\n%s", path, diff(lines, strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")))
	}
}

// Run runs the suite. Every case syncs small synthetic runs (3 epochs).
func Run(t *testing.T, h Harness) {
	if h.Golden == "" {
		h.Golden = filepath.Join("testdata", "dryrun.golden")
	}
	start := h.New
	h.New = func(t *testing.T, badKey bool) Fake {
		t.Helper()
		f := start(t, badKey)
		quick(t, f.Dest)
		snap := f.Snapshot
		f.Snapshot = func() []string {
			lines := snap()
			slices.Sort(lines)
			return lines
		}
		return f
	}
	at := func(t *testing.T, url string) ysync.Destination {
		t.Helper()
		d, err := h.At(url)
		if err != nil {
			t.Fatal(err)
		}
		quick(t, d)
		return d
	}
	archive := synctest.Capture(t, synctest.SynthRun(t, 3, 1, 1))
	sync := func(t *testing.T, ctx context.Context, d ysync.Destination, store *ysync.Store, o ysync.BatchOptions) ysync.Result {
		t.Helper()
		o.Store, o.NoPreflight = store, true
		return ysync.One(ctx, archive, d, o)
	}
	want := func(t *testing.T, res ysync.Result, status string) {
		t.Helper()
		if res.Status != status {
			t.Fatalf("status %s (%s), want %s", res.Status, res.Error, status)
		}
	}
	// The reference: a clean sync.
	ref := h.New(t, false)
	want(t, sync(t, context.Background(), ref.Dest, newStore(t), ysync.BatchOptions{}), ysync.StatusSynced)
	clean := ref.Snapshot()
	total := ref.Faults.Count()
	if len(clean) == 0 || ref.Runs() != 1 {
		t.Fatalf("a clean sync left %d remote runs and a snapshot of %d lines", ref.Runs(), len(clean))
	}
	same := func(t *testing.T, f Fake) {
		t.Helper()
		if got := f.Snapshot(); !slices.Equal(got, clean) {
			t.Fatalf("the server differs from a clean sync's:\n%s", diff(got, clean))
		}
	}

	t.Run("SecondMachine", func(t *testing.T) {
		f := h.New(t, false)
		want(t, sync(t, context.Background(), f.Dest, newStore(t), ysync.BatchOptions{}), ysync.StatusSynced)
		f.Faults.ResetLog()
		// Another machine, no checkpoint: it finds the run and sends nothing.
		want(t, sync(t, context.Background(), f.Dest, newStore(t), ysync.BatchOptions{}), ysync.StatusUpToDate)
		for _, r := range f.Faults.Requests() {
			if r.Method != "GET" && r.Method != "HEAD" && !reads(r.Path) {
				t.Errorf("the second machine wrote: %s %s", r.Method, r.Path)
			}
		}
		same(t, f)
	})

	t.Run("KillAtEveryRequest", func(t *testing.T) {
		resumed := 0
		defer func() {
			if !t.Failed() && resumed == 0 {
				t.Fatal("no kill stopped a sync")
			}
		}()
		for n := 1; n < total; n++ {
			f := h.New(t, false)
			store := newStore(t)
			ctx, cancel := context.WithCancel(context.Background())
			f.Faults.CancelAfter(n, cancel)
			first := sync(t, ctx, f.Dest, store, ysync.BatchOptions{})
			cancel()
			f.Faults.WaitQuiet()
			if first.Status == ysync.StatusSynced {
				continue // the kill came after the last request that mattered
			}
			resumed++
			if res := sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{}); res.Status != ysync.StatusSynced {
				t.Fatalf("killed after request %d (%s), the resume: %s %s", n, first.Status, res.Status, res.Error)
			}
			if got := f.Snapshot(); !slices.Equal(got, clean) {
				t.Fatalf("killed after request %d, then resumed: the server differs from a clean sync's:\n%s", n, diff(got, clean))
			}
		}
	})

	t.Run("Faults", func(t *testing.T) {
		for _, fault := range []faults.Kind{faults.TooMany, faults.ServerError, faults.Reset, faults.Slow} {
			t.Run(fault.String(), func(t *testing.T) {
				f := h.New(t, false)
				f.Faults.Random(uint64(fault), 0.2, faults.Fault{Kind: fault, RetryAfter: time.Millisecond, Delay: 20 * time.Millisecond})
				want(t, sync(t, context.Background(), f.Dest, newStore(t), ysync.BatchOptions{}), ysync.StatusSynced)
				if len(f.Faults.Injected()) == 0 {
					t.Fatal("no fault was injected")
				}
				same(t, f)
			})
		}
	})

	t.Run("Behind", func(t *testing.T) {
		// A run followed while it trained: a chain of links, the last
		// one final. Its first links alone are an earlier state.
		tr := synctest.NewTraining(t, "behind", 4)
		final := filepath.Join(t.TempDir(), "run.tar.zst")
		fl, err := convert.NewFollower(context.Background(), tr.Dir, final, convert.FollowOptions{Capture: convert.Options{Workers: 1}, Now: tr.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer fl.Close()
		for i := 0; !fl.Final(); i++ {
			if i > 1000 {
				t.Fatal("the follower never wrote the final link")
			}
			if !tr.Done() {
				tr.Step()
			} else {
				tr.Wait(5 * time.Second)
			}
			if _, err := fl.Step(context.Background()); err != nil && !errors.Is(err, convert.ErrNotReady) {
				t.Fatal(err)
			}
		}
		links, _, err := chain.Files(final)
		if err != nil || len(links) < 2 {
			t.Fatalf("the follower wrote %d links (%v)", len(links), err)
		}
		early := filepath.Join(t.TempDir(), "run.tar.zst")
		for i, l := range links[:len(links)/2] {
			data, err := os.ReadFile(l)
			if err == nil {
				err = os.WriteFile(chain.LinkPath(early, i), data, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		f := h.New(t, false)
		if res := ysync.One(context.Background(), final, f.Dest, ysync.BatchOptions{Store: newStore(t), NoPreflight: true}); res.Status != ysync.StatusSynced {
			t.Fatalf("the final state: %s %s", res.Status, res.Error)
		}
		before := f.Snapshot()
		f.Faults.ResetLog()
		dry := ysync.One(context.Background(), early, f.Dest, ysync.BatchOptions{Store: newStore(t), NoPreflight: true, DryRun: true})
		if dry.Action != ysync.ActionBehind || dry.RemoteID == "" || dry.URL == "" {
			t.Fatalf("a dry run of an earlier state after the final one: %s %q %s, want behind with the remote run", dry.Action, dry.RemoteID, dry.Error)
		}
		for _, r := range f.Faults.Requests() {
			if r.Method != "GET" && r.Method != "HEAD" && !reads(r.Path) {
				t.Errorf("a dry run wrote: %s %s", r.Method, r.Path)
			}
		}
		res := ysync.One(context.Background(), early, f.Dest, ysync.BatchOptions{Store: newStore(t), NoPreflight: true})
		if res.Status != ysync.StatusBehind || res.RemoteID == "" {
			t.Fatalf("an earlier state after the final one: %s %q %s, want behind with the remote run", res.Status, res.RemoteID, res.Error)
		}
		if got := f.Snapshot(); !slices.Equal(got, before) {
			t.Fatalf("an earlier state changed the remote run:\n%s", diff(got, before))
		}
	})

	t.Run("Force", func(t *testing.T) {
		f := h.New(t, false)
		store := newStore(t)
		first := sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{})
		want(t, first, ysync.StatusSynced)
		res := sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{Force: true})
		want(t, res, ysync.StatusSynced)
		if res.RemoteID == first.RemoteID || f.Runs() != 2 {
			t.Fatalf("--force: remote run %s (was %s), %d remote runs, want a new one beside the old", res.RemoteID, first.RemoteID, f.Runs())
		}
		// The new run is the run's from now on, also on another machine.
		again := sync(t, context.Background(), f.Dest, newStore(t), ysync.BatchOptions{})
		want(t, again, ysync.StatusUpToDate)
		if again.RemoteID != res.RemoteID {
			t.Fatalf("after --force another machine found %s, want %s", again.RemoteID, res.RemoteID)
		}
		// A --force sync killed before its new run exists still makes one
		// when it resumes without --force.
		ctx, cancel := context.WithCancel(context.Background())
		f.Faults.CancelAfter(1, cancel)
		killed := sync(t, ctx, f.Dest, store, ysync.BatchOptions{Force: true})
		cancel()
		f.Faults.WaitQuiet()
		if killed.Status != ysync.StatusInterrupted {
			t.Fatalf("--force killed after one request: %s %s", killed.Status, killed.Error)
		}
		// Its checkpoint still says replace: a dry run says what the
		// resume does, create.
		if dry := sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{DryRun: true}); dry.Action != ysync.ActionCreate {
			t.Fatalf("a dry run after a killed --force: %s (%s), want %s", dry.Action, dry.Error, ysync.ActionCreate)
		}
		resumed := sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{})
		want(t, resumed, ysync.StatusSynced)
		if resumed.RemoteID == res.RemoteID || f.Runs() != 3 {
			t.Fatalf("a killed --force, resumed: remote run %s (was %s), %d remote runs, want a third", resumed.RemoteID, res.RemoteID, f.Runs())
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		f := h.New(t, false)
		store := newStore(t)
		res := sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{DryRun: true})
		if res.Status != ysync.StatusDryRun || res.Action != ysync.ActionCreate || f.Runs() != 0 {
			t.Fatalf("dry run on an empty server: %s %s (%s), %d remote runs", res.Status, res.Action, res.Error, f.Runs())
		}
		want(t, sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{}), ysync.StatusSynced)
		f.Faults.ResetLog()
		if res := sync(t, context.Background(), f.Dest, newStore(t), ysync.BatchOptions{DryRun: true}); res.Action != ysync.ActionUpToDate {
			t.Fatalf("dry run after a sync: %s %s (%s), want %s", res.Status, res.Action, res.Error, ysync.ActionUpToDate)
		}
		if res := sync(t, context.Background(), f.Dest, store, ysync.BatchOptions{DryRun: true, Force: true}); res.Action != ysync.ActionCreate {
			t.Fatalf("dry run with --force: %s, want %s", res.Action, ysync.ActionCreate)
		}
		for _, r := range f.Faults.Requests() {
			if r.Method != "GET" && r.Method != "HEAD" && !reads(r.Path) {
				t.Errorf("a dry run wrote: %s %s", r.Method, r.Path)
			}
		}
		same(t, f)
	})

	t.Run("DryRunGolden", func(t *testing.T) {
		// What a dry run says (action, changes, whether it names the
		// remote run) in every state a sync can leave, against the
		// destination's golden file: a refactor keeps it word for word.
		var lines []string
		dry := func(t *testing.T, f Fake, store *ysync.Store, o ysync.BatchOptions, what string) {
			t.Helper()
			f.Faults.ResetLog()
			o.DryRun = true
			res := sync(t, context.Background(), f.Dest, store, o)
			if res.Status != ysync.StatusDryRun {
				t.Fatalf("%s: %s %s", what, res.Status, res.Error)
			}
			for _, r := range f.Faults.Requests() {
				if r.Method != "GET" && r.Method != "HEAD" && !reads(r.Path) {
					t.Errorf("%s: a dry run wrote: %s %s", what, r.Method, r.Path)
				}
			}
			lines = append(lines, fmt.Sprintf("%s: %s remote=%v url=%v", what, res.Action, res.RemoteID != "", res.URL != ""))
			for _, c := range res.Changes {
				lines = append(lines, "\t"+c)
			}
		}
		f := h.New(t, false)
		store := newStore(t)
		dry(t, f, store, ysync.BatchOptions{}, "empty server")
		// A sync killed right after it made the remote run: the first
		// request after which a dry run finds it.
		var cut Fake
		for n := 1; n < total && cut.Dest == nil; n++ {
			g := h.New(t, false)
			store = newStore(t)
			ctx, cancel := context.WithCancel(context.Background())
			g.Faults.CancelAfter(n, cancel)
			res := sync(t, ctx, g.Dest, store, ysync.BatchOptions{})
			cancel()
			g.Faults.WaitQuiet()
			g.Faults.Clear()
			if res.Status == ysync.StatusSynced {
				t.Fatalf("killed after request %d, the sync still finished", n)
			}
			if g.Runs() > 0 && sync(t, context.Background(), g.Dest, store, ysync.BatchOptions{DryRun: true}).Action == ysync.ActionUpdate {
				cut = g
			}
		}
		if cut.Dest == nil {
			t.Fatal("no kill left a remote run to update")
		}
		dry(t, cut, store, ysync.BatchOptions{}, "cut short")
		dry(t, cut, newStore(t), ysync.BatchOptions{}, "cut short, another machine")
		want(t, sync(t, context.Background(), cut.Dest, store, ysync.BatchOptions{}), ysync.StatusSynced)
		dry(t, cut, store, ysync.BatchOptions{}, "synced")
		dry(t, cut, newStore(t), ysync.BatchOptions{}, "synced, another machine")
		dry(t, cut, store, ysync.BatchOptions{Force: true}, "synced, --force")
		same(t, cut)
		checkGolden(t, h.Golden, lines)
	})

	t.Run("Preflight", func(t *testing.T) {
		f := h.New(t, false)
		if _, err := ysync.Preflight(context.Background(), f.Dest, nil); err != nil {
			t.Fatalf("preflight: %v", err)
		}
		bad := h.New(t, true)
		_, err := ysync.Preflight(context.Background(), bad.Dest, nil)
		if ysync.Classify(err) != ysync.CauseCredentials {
			t.Fatalf("preflight with a bad key: %v (%s), want %s", err, ysync.Classify(err), ysync.CauseCredentials)
		}
		if bad.Runs() != 0 {
			t.Fatal("a preflight wrote")
		}
	})

	t.Run("BadCredentials", func(t *testing.T) {
		f := h.New(t, true)
		res := ysync.One(context.Background(), archive, f.Dest, ysync.BatchOptions{Store: newStore(t)})
		if res.Status != ysync.StatusFailed || res.Cause != ysync.CauseCredentials {
			t.Fatalf("%s %s (%s), want failed: %s", res.Status, res.Cause, res.Error, ysync.CauseCredentials)
		}
		if strings.Contains(fmt.Sprintf("%+v", res), Secret) {
			t.Fatalf("the result shows the secret: %s", res.Error)
		}
	})

	t.Run("Unreachable", func(t *testing.T) {
		d := at(t, synctest.UnreachableURL(t, synctest.Closed))
		start := time.Now()
		res := ysync.One(context.Background(), archive, d, ysync.BatchOptions{Store: newStore(t)})
		if res.Status != ysync.StatusFailed || res.Cause != ysync.CauseUnreachable || strings.Count(res.Error, "\n") > 0 {
			t.Fatalf("%s %s %q, want failed on one line: %s", res.Status, res.Cause, res.Error, ysync.CauseUnreachable)
		}
		if time.Since(start) > ysync.PreflightTimeout+5*time.Second {
			t.Fatalf("took %s", time.Since(start))
		}
	})
}

// reads reports whether a POST only reads (ClearML's API posts every
// call, reads included; auth.login makes a token, not a remote change;
// MLflow's runs/search is a POST).
func reads(path string) bool {
	for _, r := range []string{"mlflow/runs/search", "get_all", "get_by_id", "auth.login", "events.get", "events.scalar_metrics", "events.debug_images", "events.get_task", "events.get_scalar", "events.get_multi", "events.plots", "models.get", "projects.get", "tasks.get"} {
		if strings.Contains(path, r) {
			return true
		}
	}
	return false
}

func newStore(t *testing.T) *ysync.Store { return &ysync.Store{Dir: t.TempDir()} }

// diff lists the lines only one side has.
func diff(got, want []string) string {
	var b strings.Builder
	g, w := map[string]int{}, map[string]int{}
	for _, s := range got {
		g[s]++
	}
	for _, s := range want {
		w[s]++
	}
	n := 0
	for _, s := range got {
		if g[s] > w[s] && n < 20 {
			fmt.Fprintf(&b, "+ %s\n", s)
			g[s]--
			n++
		}
	}
	for _, s := range want {
		if w[s] > g[s] && n < 40 {
			fmt.Fprintf(&b, "- %s\n", s)
			w[s]--
			n++
		}
	}
	return b.String()
}
