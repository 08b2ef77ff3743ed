package sync

import (
	"context"
	"errors"
	"time"
)

// Target is anything Batch syncs archives into: a tracker server (a
// Destination) or an offline export (a Writer).
type Target interface {
	// Destination identifies the target for checkpoints and reports:
	// tracker, server address and project or workspace, never credentials.
	Destination() string
	// Tracker is the tracker's short name ("clearml", "comet"), used to
	// select the archive gaps that affect it.
	Tracker() string
	// Plan counts what a sync would send for run, without sending
	// anything.
	Plan(ctx context.Context, run *Run) (*Plan, error)
}

// Destination is a tracker server that runs are replayed into. The core
// (Batch, One) owns the algorithm: checkpoints, the behind check, the
// read-back before "synced", --force, dry runs, preflights (Checker),
// progress and reports. A destination only opens one archive's Replay,
// whose methods the core calls in this order for a sync:
//
//	FindOrCreate → [Ended] → Steps → [ReadBack → Finish] → Apply… → ReadBack → Finish → Close
//
// and for a dry run, which sends only reads:
//
//	Find → [Ended] → Steps → [ReadBack] → Close
type Destination interface {
	Target
	// Open prepares the replay of run (no request is sent yet). st is the
	// run's checkpoint, locked; task shows progress.
	Open(ctx context.Context, run *Run, st *State, task *Task) (Replay, error)
}

// Writer is an offline export (clearml-offline, comet-offline): it writes
// run in one go; there is no server to find, read back or resume.
type Writer interface {
	Target
	// Write writes run. st is the run's checkpoint (nil-store: not kept);
	// Write fills res (Output, and Status when not StatusWritten).
	Write(ctx context.Context, run *Run, st *State, task *Task, res *Result) error
}

// Found is the remote run FindOrCreate found or made.
type Found struct {
	// ID is the remote run (ClearML task id, Comet experiment key).
	ID string
	// URL is its web page.
	URL string
	// Check asks for a read-back before anything is sent: the remote run
	// was not made by this sync or an earlier attempt of it, so another
	// machine (or a lost checkpoint) may have sent everything already.
	Check bool
	// Changes, when Find found no remote run, says what else a sync
	// would create (`project "x" does not exist yet`).
	Changes []string
}

// Step is one named step of a replay.
type Step struct {
	// Name names the step in errors and, when Once, in the checkpoint.
	Name string
	// Once steps are checkpointed whole by the core: skipped when the
	// checkpoint has Name, marked when Apply returns nil. Other steps
	// resume on their own (they checkpoint each upload or batch).
	Once bool
}

// Replay is one archive's replay into a Destination.
type Replay interface {
	// FindOrCreate finds the remote run of the archive's run id (the
	// checkpoint's remote id first, then the run id on the server) or
	// creates it and marks it with the run id. With force it makes a new
	// remote run and marks those found as replaced. It never makes a
	// second remote run for a run id when a create's answer was lost.
	FindOrCreate(ctx context.Context, force bool) (Found, error)
	// Find finds the remote run as FindOrCreate does, sending only reads
	// and saving nothing (the checkpoint is a read-only copy); ok is
	// false when there is none, so a sync would create it. A replay
	// opened for Find is a dry run: its ReadBack compares everything and
	// lists every difference (MismatchError.Changes), the remote run's
	// end included.
	Find(ctx context.Context) (f Found, ok bool, err error)
	// Ended reports whether the remote run was ended by a final state of
	// the run; the core asks only for an unfinished run (Run.Final false),
	// to leave a later state alone (StatusBehind).
	Ended(ctx context.Context) (bool, error)
	// Steps plans the run into named steps, in the order they are applied.
	Steps(ctx context.Context) ([]Step, error)
	// Apply sends one step; sending it again overwrites or skips what is
	// there (steps are idempotent).
	Apply(ctx context.Context, step Step) error
	// ReadBack compares the remote run with the plan. A *MismatchError
	// says what is missing: the core then forgets the steps done, so the
	// next sync sends them again.
	ReadBack(ctx context.Context) error
	// Finish ends the remote run when the run is final (times, status).
	// The core then records the run synced.
	Finish(ctx context.Context) error
	// Close releases what the replay holds and adds its figures to res
	// (Requests, Retries, Skipped, Gaps). It is called once, also after
	// an error.
	Close(res *Result)
}

// MismatchError is a read-back that found the remote run lacking what was
// planned.
type MismatchError struct {
	Msg string
	// Changes lists what differs, one short phrase each ("12 of 40
	// scalars missing or different"): a dry run's Result.Changes. A
	// read-back of a sync may stop at the first difference.
	Changes []string
	// Err, when set, is the cause (a read that failed).
	Err error
}

// Error returns Msg.
func (e *MismatchError) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *MismatchError) Unwrap() error { return e.Err }

// replay runs the algorithm for one archive of a Destination. st is
// loaded and locked; res.Status is StatusSynced on entry.
func replay(ctx context.Context, d Destination, run *Run, st *State, task *Task, res *Result, force bool) (err error) {
	task.Stage("connect", 0)
	r, err := d.Open(ctx, run, st, task)
	if err != nil {
		return err
	}
	defer r.Close(res)
	found, err := r.FindOrCreate(ctx, force)
	if err != nil {
		return err
	}
	if st.Replace {
		st.Replace = false
		if err := st.Save(); err != nil {
			return err
		}
	}
	if !run.Final() {
		ended, err := r.Ended(ctx)
		if err != nil {
			return err
		}
		if ended {
			// The remote run holds a later state of the run (the final
			// link, or a capture of the finished run): an earlier one
			// must not reopen it or overwrite its values.
			res.Status, res.RemoteID, res.URL = StatusBehind, found.ID, found.URL
			return nil
		}
	}
	st.RemoteID, st.URL = found.ID, found.URL
	if err := st.Save(); err != nil {
		return err
	}
	steps, err := r.Steps(ctx)
	if err != nil {
		return err
	}
	if st.Synced {
		res.Status = StatusUpToDate
		return nil
	}
	if found.Check {
		// Synced from another machine (or the checkpoint was lost): if
		// the server already holds everything, there is nothing to send.
		if r.ReadBack(ctx) == nil {
			res.Status = StatusUpToDate
			return finish(ctx, r, st)
		}
	}
	for _, s := range steps {
		if s.Once && st.Has(s.Name) {
			continue
		}
		if err := r.Apply(ctx, s); err != nil {
			return err
		}
		if s.Once {
			if err := st.Mark(s.Name); err != nil {
				return err
			}
		}
	}
	task.Stage("verify", 0)
	if err := r.ReadBack(ctx); err != nil {
		var mm *MismatchError
		if errors.As(err, &mm) {
			// Something the steps sent is missing: redo them all,
			// reading back first.
			st.Reset()
			st.RemoteID, st.URL = found.ID, found.URL
			_ = st.Save()
		}
		return err
	}
	return finish(ctx, r, st)
}

func finish(ctx context.Context, r Replay, st *State) error {
	if err := r.Finish(ctx); err != nil {
		return err
	}
	st.Synced, st.SyncedAt = true, time.Now().UTC()
	return st.Save()
}
