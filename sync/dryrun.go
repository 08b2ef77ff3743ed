package sync

import (
	"context"
	"errors"
)

// dryRun fills res with what a sync of run would do, sending only reads:
// the algorithm of replay, with Find for FindOrCreate, the checkpoint
// read-only, and the read-back's differences as res.Changes. An offline
// export would be written.
func dryRun(ctx context.Context, run *Run, t Target, opts BatchOptions, task *Task, res *Result) error {
	d, ok := t.(Destination)
	if !ok {
		res.Action = ActionWrite
		return nil
	}
	st := &State{Version: StateVersion, Destination: t.Destination(), RunID: run.RunID()}
	if opts.Store != nil {
		var err error
		if st, err = opts.Store.Load(t.Destination(), run.RunID()); err != nil {
			return err
		}
		st.store = nil // read-only: a dry run leaves the checkpoint alone
	}
	if opts.Force || st.Replace {
		// --force (or one that has not made its remote run yet) makes a
		// fresh remote run whatever exists.
		res.Action = ActionCreate
		return nil
	}
	if st.Archive != run.Digest() {
		// Another archive of the run: a sync redoes every step.
		st.Synced = false
		st.Done = nil
	}
	r, err := d.Open(ctx, run, st, task)
	if err != nil {
		return err
	}
	defer r.Close(res)
	found, ok, err := r.Find(ctx)
	if err != nil {
		return err
	}
	if !ok {
		res.Action, res.Changes = ActionCreate, found.Changes
		return nil
	}
	res.RemoteID, res.URL = found.ID, found.URL
	if !run.Final() {
		ended, err := r.Ended(ctx)
		if err != nil {
			return err
		}
		if ended {
			res.Action = ActionBehind
			return nil
		}
	}
	if _, err := r.Steps(ctx); err != nil {
		return err
	}
	if st.Synced {
		res.Action = ActionUpToDate
		return nil
	}
	err = r.ReadBack(ctx)
	var mm *MismatchError
	switch {
	case err == nil:
		res.Action = ActionUpToDate
	case errors.As(err, &mm) && mm.Err == nil:
		res.Action, res.Changes = ActionUpdate, mm.Changes
		if len(mm.Changes) == 0 {
			res.Changes = []string{mm.Msg}
		}
	default:
		return err
	}
	return nil
}
