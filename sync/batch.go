package sync

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"time"
)

// Replayer replays archives into one destination: a tracker server
// (ClearML, Comet) or an offline export. Implementations live in
// sync/clearml and sync/comet; Batch drives them.
type Replayer interface {
	// Destination identifies the target for checkpoints and reports:
	// tracker, server address and project or workspace, never credentials.
	Destination() string
	// Tracker is the tracker's short name ("clearml", "comet"), used to
	// select the archive gaps that affect it.
	Tracker() string
	// Plan counts what Sync would send for run, without sending anything.
	Plan(run *Run) (*Plan, error)
	// Sync replays run. st is the run's checkpoint, already locked; Sync
	// marks steps as they complete and sets st.Synced only after a
	// read-back matched. It fills res (RemoteID, URL, Output, Skipped,
	// Requests, Retries, and Status when not StatusSynced) and returns the
	// first error.
	Sync(ctx context.Context, run *Run, st *State, task *Task, res *Result) error
}

// BatchOptions controls Batch.
type BatchOptions struct {
	// Jobs is the number of archives synced at once (at least 1).
	Jobs int
	// DryRun plans without sending.
	DryRun bool
	// Force starts a fresh remote run even when the checkpoint or the
	// remote side knows one.
	Force bool
	// Store keeps the checkpoints. Nil keeps none (offline exports).
	Store *Store
	// Progress shows progress; nil shows none.
	Progress *Progress
	// OnResult is called as each archive finishes (from any goroutine,
	// one call at a time).
	OnResult func(Result)
}

// Batch syncs every archive in paths with r, up to opts.Jobs at once, and
// returns one Result per archive in the order of paths. One failing
// archive never stops the others; a cancelled ctx marks the archives not
// finished as interrupted.
func Batch(ctx context.Context, paths []string, r Replayer, opts BatchOptions) []Result {
	jobs := max(opts.Jobs, 1)
	results := make([]Result, len(paths))
	sem := make(chan struct{}, jobs)
	var wg gosync.WaitGroup
	var mu gosync.Mutex
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() == nil {
				defer func() { <-sem }()
			}
			res := One(ctx, p, r, opts)
			results[i] = res
			if opts.OnResult != nil {
				mu.Lock()
				opts.OnResult(res)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

// One syncs a single archive; see Batch.
func One(ctx context.Context, path string, r Replayer, opts BatchOptions) (res Result) {
	start := time.Now()
	res = Result{Archive: path, Destination: r.Destination()}
	var task *Task
	if opts.Progress != nil {
		task = opts.Progress.Task(strings.TrimSuffix(filepath.Base(path), ".tar.zst"))
	}
	defer func() {
		if p := recover(); p != nil {
			res.Status, res.Error = StatusFailed, fmt.Sprintf("internal error (please report): %v", p)
		}
		res.Seconds = time.Since(start).Seconds()
		task.Done(res.OK())
	}()
	fail := func(err error) Result {
		res.Status, res.Error = StatusFailed, err.Error()
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			res.Status, res.Error = StatusInterrupted, "interrupted: run the same command again to resume"
		}
		return res
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	task.Stage("open", 0)
	run, err := Open(ctx, path)
	if err != nil {
		return fail(err)
	}
	defer run.Close()
	res.RunID = run.RunID()
	res.Gaps = GapsFor(run.Gaps, r.Tracker())
	plan, err := r.Plan(run)
	if err != nil {
		return fail(err)
	}
	res.Plan = plan
	if opts.DryRun {
		res.Status = StatusDryRun
		return res
	}
	st := &State{Version: StateVersion, Destination: r.Destination(), RunID: run.RunID()}
	if opts.Store != nil {
		unlock, err := opts.Store.Lock(r.Destination(), run.RunID())
		if err != nil {
			return fail(err)
		}
		defer unlock()
		if st, err = opts.Store.Load(r.Destination(), run.RunID()); err != nil {
			return fail(err)
		}
	}
	if opts.Force {
		st.Reset()
		st.Set("force", "1")
	}
	res.Resumed = !st.Synced && len(st.Done) > 0
	if st.Archive != run.Digest() {
		// Another archive of the same run (a later capture of a run that
		// was still training): keep the remote run, redo every step; the
		// steps are idempotent.
		if st.Archive != "" {
			remote, url := st.RemoteID, st.URL
			values, links := st.Values, st.Chain
			st.Reset()
			st.RemoteID, st.URL, st.Values, st.Chain = remote, url, values, links
		}
		st.Archive = run.Digest()
	}
	links := run.Links()
	if run.chain != nil && len(run.chain.Orphans) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("link %d of the chain is missing: %d later link files (first %s) were not read", len(links), len(run.chain.Orphans), run.chain.Orphans[0]))
	}
	if n := len(st.Chain); n > 0 && n < len(links) && slices.Equal(st.Chain, links[:n]) {
		// A chain whose first links were synced here: send only what the
		// later ones add.
		if run.Prior, err = run.prefix(n); err != nil {
			return fail(err)
		}
	}
	st.pending = links
	res.Status = StatusSynced
	err = r.Sync(ctx, run, st, task, &res)
	if err == nil && links != nil && res.Status != StatusBehind {
		res.Links = len(links)
		st.Chain = links
		err = st.Save()
	}
	if err == nil && !run.Final() && res.Status == StatusSynced {
		res.Status = StatusPartial
	}
	res.RemoteID, res.URL = firstNonEmpty(res.RemoteID, st.RemoteID), firstNonEmpty(res.URL, st.URL)
	if err != nil {
		return fail(err)
	}
	return res
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
