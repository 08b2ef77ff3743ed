package sync_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// stubTarget is a destination whose preflight and syncs fail as told;
// it counts the syncs it was asked for.
type stubTarget struct {
	check func() error // nil: no Check method is consulted (see checking)
	sync  func(i int) error

	mu    gosync.Mutex
	syncs int
}

func (s *stubTarget) Destination() string { return "stub at http://127.0.0.1:9" }
func (s *stubTarget) Tracker() string     { return "clearml" }
func (s *stubTarget) Plan(context.Context, *ysync.Run) (*ysync.Plan, error) {
	return &ysync.Plan{Project: "p", Name: "n"}, nil
}

func (s *stubTarget) Write(ctx context.Context, run *ysync.Run, st *ysync.State, task *ysync.Task, res *ysync.Result) error {
	s.mu.Lock()
	i := s.syncs
	s.syncs++
	s.mu.Unlock()
	if s.sync == nil {
		return nil
	}
	return s.sync(i)
}

// checking is a stubTarget with a preflight.
type checking struct{ *stubTarget }

func (c checking) Check(ctx context.Context) ([]string, *ysync.Projects, error) {
	return nil, nil, c.check()
}

// copies returns n paths of one archive (runs with the same id; the
// batches here have no Store, so nothing locks them).
func copies(t *testing.T, n int) []string {
	t.Helper()
	data, err := os.ReadFile("../testdata/archives/v1.0-detect.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("run%03d.tar.zst", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func statuses(results []ysync.Result) map[string]int {
	m := map[string]int{}
	for _, r := range results {
		m[r.Status]++
	}
	return m
}

// A destination that fails its preflight gets no archive: every one is
// reported not attempted, with the preflight's cause, and OnStop is told
// once.
func TestBatch_PreflightFailureAttemptsNothing(t *testing.T) {
	down := &ysync.DestinationError{Cause: ysync.CauseUnreachable, Msg: "stub is unreachable: check STUB_HOST"}
	r := &stubTarget{check: func() error { return down }}
	var stops []ysync.Stop
	results := ysync.Batch(context.Background(), copies(t, 5), checking{r}, ysync.BatchOptions{Jobs: 2,
		OnStop: func(s ysync.Stop) { stops = append(stops, s) }})
	if r.syncs != 0 {
		t.Errorf("%d archives synced after a failed preflight", r.syncs)
	}
	if got := statuses(results); got[ysync.StatusNotAttempted] != 5 {
		t.Errorf("statuses %v, want 5 not attempted", got)
	}
	if results[0].Cause != ysync.CauseUnreachable || results[0].OK() {
		t.Errorf("result %+v", results[0])
	}
	if len(stops) != 1 || !stops[0].Preflight || stops[0].Reason != down.Msg {
		t.Errorf("OnStop calls %+v", stops)
	}
}

// The same destination cause DefaultStopAfter times in a row stops the
// batch: with one job exactly that many archives are tried.
func TestBatch_StopsAfterRepeatedCause(t *testing.T) {
	for _, cause := range []ysync.Cause{ysync.CauseUnreachable, ysync.CauseCredentials, ysync.CauseServer, ysync.CauseRateLimited} {
		t.Run(string(cause), func(t *testing.T) {
			r := &stubTarget{sync: func(int) error {
				return fmt.Errorf("step x: %w", &ysync.DestinationError{Cause: cause, Msg: "the stub refused"})
			}}
			var stop *ysync.Stop
			results := ysync.Batch(context.Background(), copies(t, 8), r, ysync.BatchOptions{Jobs: 1,
				OnStop: func(s ysync.Stop) { stop = &s }})
			got := statuses(results)
			if r.syncs != ysync.DefaultStopAfter || got[ysync.StatusFailed] != ysync.DefaultStopAfter ||
				got[ysync.StatusNotAttempted] != 8-ysync.DefaultStopAfter {
				t.Errorf("%d syncs, statuses %v", r.syncs, got)
			}
			if stop == nil || stop.Preflight || stop.Cause != cause || stop.Failed != ysync.DefaultStopAfter {
				t.Errorf("stop %+v", stop)
			}
		})
	}
	// With two jobs, at most one more archive is in flight when it stops.
	r := &stubTarget{sync: func(int) error { return &ysync.DestinationError{Cause: ysync.CauseUnreachable, Msg: "down"} }}
	results := ysync.Batch(context.Background(), copies(t, 12), r, ysync.BatchOptions{Jobs: 2})
	if got := statuses(results); r.syncs > ysync.DefaultStopAfter+1 || got[ysync.StatusNotAttempted] < 12-ysync.DefaultStopAfter-1 {
		t.Errorf("two jobs: %d syncs, statuses %v", r.syncs, got)
	}
	// StopAfter below 0 never stops.
	r = &stubTarget{sync: func(int) error { return &ysync.DestinationError{Cause: ysync.CauseUnreachable, Msg: "down"} }}
	results = ysync.Batch(context.Background(), copies(t, 5), r, ysync.BatchOptions{Jobs: 1, StopAfter: -1})
	if got := statuses(results); got[ysync.StatusFailed] != 5 {
		t.Errorf("StopAfter -1: statuses %v", got)
	}
}

// Failures of the archives themselves never stop a batch, nor do
// destination failures that a success or another cause interrupts.
func TestBatch_NoStopWithoutARepeatedCause(t *testing.T) {
	cases := map[string]func(i int) error{
		"archive errors": func(int) error { return errors.New("results.csv row 3: bad number") },
		"success between": func(i int) error {
			if i%3 == 2 {
				return nil
			}
			return &ysync.DestinationError{Cause: ysync.CauseServer, Msg: "502"}
		},
		"causes alternate": func(i int) error {
			if i%2 == 0 {
				return &ysync.DestinationError{Cause: ysync.CauseServer, Msg: "502"}
			}
			return &ysync.DestinationError{Cause: ysync.CauseRateLimited, Msg: "429"}
		},
	}
	for name, fail := range cases {
		t.Run(name, func(t *testing.T) {
			r := &stubTarget{sync: fail}
			stopped := false
			results := ysync.Batch(context.Background(), copies(t, 9), r, ysync.BatchOptions{Jobs: 1,
				OnStop: func(ysync.Stop) { stopped = true }})
			if got := statuses(results); stopped || r.syncs != 9 || got[ysync.StatusNotAttempted] != 0 {
				t.Errorf("stopped %v, %d syncs, statuses %v", stopped, r.syncs, got)
			}
		})
	}
	// Damaged archives (they fail before any request) between destination
	// failures neither count nor reset the streak: the batch stops at the
	// third destination failure.
	paths := copies(t, 8)
	for _, i := range []int{1, 3} {
		if err := os.WriteFile(paths[i], []byte("not an archive"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := &stubTarget{sync: func(int) error { return &ysync.DestinationError{Cause: ysync.CauseUnreachable, Msg: "down"} }}
	results := ysync.Batch(context.Background(), paths, r, ysync.BatchOptions{Jobs: 1})
	if results[1].Cause != ysync.CauseNone || results[1].Status != ysync.StatusFailed {
		t.Errorf("damaged archive: %+v", results[1])
	}
	if r.syncs != ysync.DefaultStopAfter {
		t.Errorf("%d syncs, want %d", r.syncs, ysync.DefaultStopAfter)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want ysync.Cause
	}{
		{nil, ysync.CauseNone},
		{errors.New("bad archive"), ysync.CauseNone},
		{context.Canceled, ysync.CauseNone},
		{fmt.Errorf("upload: %w", &ysync.NetError{URL: "http://h/x", Err: errors.New("connection refused")}), ysync.CauseUnreachable},
		{fmt.Errorf("step: %w", &ysync.DestinationError{Cause: ysync.CauseCredentials, Msg: "key"}), ysync.CauseCredentials},
	} {
		if got := ysync.Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := ysync.CheckWritable(filepath.Join(dir, "new", "deeper")); err != nil {
		t.Errorf("a directory to be made under a writable one: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ysync.CheckWritable(filepath.Join(file, "sub")); ysync.Classify(err) != ysync.CauseOutput {
		t.Errorf("under a file: %v", err)
	}
	if os.Geteuid() == 0 {
		return // root writes anywhere
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if err := ysync.CheckWritable(ro); ysync.Classify(err) != ysync.CauseOutput {
		t.Errorf("read-only directory: %v", err)
	}
}
