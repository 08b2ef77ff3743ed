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

// BatchOptions controls Batch.
type BatchOptions struct {
	// Jobs is the number of archives synced at once (at least 1).
	Jobs int
	// DryRun sends nothing: it asks the destination, with reads only,
	// what a sync would do.
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
	// NoPreflight skips the preflight (see Preflight), for a caller that
	// ran it already.
	NoPreflight bool
	// StopAfter stops the batch once this many archives in a row failed
	// with the same destination cause (0: DefaultStopAfter; below 0:
	// never).
	StopAfter int
	// OnStop is called once if the batch stops before attempting every
	// archive (the preflight failed, or StopAfter archives in a row
	// failed with the same cause), before the archives not attempted are
	// reported.
	OnStop func(Stop)
}

// DefaultStopAfter is how many archives in a row may fail with the same
// destination cause (unreachable, credentials refused, server errors
// after retries, rate-limited beyond the retry budget) before a batch
// stops and reports the rest as not attempted. Failures of an archive
// itself never count.
const DefaultStopAfter = 3

// Stop is why a batch stopped before attempting every archive.
type Stop struct {
	// Preflight is set when the destination failed its preflight:
	// nothing was attempted.
	Preflight bool
	Cause     Cause
	// Reason is the failure, on one line.
	Reason string
	// Failed is how many archives in a row failed with Cause (0 for a
	// preflight).
	Failed int
}

// Batch syncs every archive in paths with r, up to opts.Jobs at once, and
// returns one Result per archive in the order of paths. A preflight of
// the destination comes first (see Preflight): if it fails, no archive
// is attempted. One failing archive never stops the others, but
// opts.StopAfter archives in a row failing with the same destination
// cause stop the batch: those not started yet are reported as not
// attempted. A cancelled ctx marks the archives not finished as
// interrupted.
func Batch(ctx context.Context, paths []string, r Target, opts BatchOptions) []Result {
	results := make([]Result, len(paths))
	var mu gosync.Mutex
	report := func(i int, res Result) {
		results[i] = res
		if opts.OnResult != nil {
			mu.Lock()
			opts.OnResult(res)
			mu.Unlock()
		}
	}
	if !opts.NoPreflight {
		if _, err := Preflight(ctx, r, nil); err != nil {
			var pe *PreflightError
			if !errors.As(err, &pe) {
				// Cancelled during the preflight.
				for i, p := range paths {
					report(i, Result{Archive: p, Destination: r.Destination(), Status: StatusInterrupted,
						Error: "interrupted: run the same command again to resume"})
				}
				return results
			}
			stop := &Stop{Preflight: true, Cause: pe.Cause, Reason: pe.Error()}
			if opts.OnStop != nil {
				opts.OnStop(*stop)
			}
			for i, p := range paths {
				report(i, stop.NotAttempted(p, r.Destination()))
			}
			return results
		}
	}
	stopAfter := opts.StopAfter
	if stopAfter == 0 {
		stopAfter = DefaultStopAfter
	}
	var streak int
	var streakCause Cause
	var stop *Stop
	jobs := max(opts.Jobs, 1)
	// Archives are handed out in the order given: a batch that stops
	// after StopAfter failures has tried the first ones, not a random set.
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range paths {
			next <- i
		}
	}()
	var wg gosync.WaitGroup
	var smu gosync.Mutex
	for range min(jobs, len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := paths[i]
				smu.Lock()
				stopped := stop
				smu.Unlock()
				if stopped != nil {
					report(i, stopped.NotAttempted(p, r.Destination()))
					continue
				}
				res := One(ctx, p, r, opts)
				smu.Lock()
				switch {
				case res.OK():
					streak = 0
				case res.Status == StatusFailed && res.Cause != CauseNone:
					if res.Cause != streakCause {
						streak, streakCause = 0, res.Cause
					}
					streak++
					if stopAfter > 0 && streak >= stopAfter && stop == nil {
						stop = &Stop{Cause: res.Cause, Reason: oneLine(res.Error), Failed: streak}
						if opts.OnStop != nil {
							opts.OnStop(*stop)
						}
					}
				}
				smu.Unlock()
				report(i, res)
			}
		}()
	}
	wg.Wait()
	return results
}

// NotAttempted is the Result of an archive that the stopped batch did not
// try.
func (s *Stop) NotAttempted(archive, destination string) Result {
	why := "the destination failed the preflight"
	if !s.Preflight {
		why = fmt.Sprintf("%d archives in a row failed (%s)", s.Failed, s.Cause)
	}
	return Result{Archive: archive, Destination: destination, Status: StatusNotAttempted, Cause: s.Cause,
		Error: fmt.Sprintf("not attempted: %s: %s", why, s.Reason)}
}

// One syncs a single archive; see Batch.
func One(ctx context.Context, path string, r Target, opts BatchOptions) (res Result) {
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
		res.Status, res.Error, res.Cause = StatusFailed, err.Error(), Classify(err)
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			res.Status, res.Error, res.Cause = StatusInterrupted, "interrupted: run the same command again to resume", CauseNone
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
	plan, err := r.Plan(ctx, run)
	if err != nil {
		return fail(err)
	}
	res.Plan = plan
	if opts.DryRun {
		res.Status = StatusDryRun
		task.Stage("ask", 0)
		if err := dryRun(ctx, run, r, opts, task, &res); err != nil {
			return fail(err)
		}
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
		st.Replace = true
		if err := st.Save(); err != nil {
			return fail(err)
		}
	}
	res.Resumed = !st.Synced && len(st.Done) > 0
	st.SetPath(run.Path)
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
		if run.Prior, err = run.prefix(ctx, n); err != nil {
			return fail(err)
		}
	}
	st.pending = links
	res.Status = StatusSynced
	switch t := r.(type) {
	case Destination:
		err = replay(ctx, t, run, st, task, &res, st.Replace)
	case Writer:
		err = t.Write(ctx, run, st, task, &res)
	default:
		err = fmt.Errorf("%s is neither a sync.Destination nor a sync.Writer (internal error)", r.Destination())
	}
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
