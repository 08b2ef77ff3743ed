package sync

import (
	"context"
)

// Previewer is a Target that can tell, without writing anything to the
// destination, what Sync would do with a run (a dry run).
type Previewer interface {
	// Preview finds the run's remote run as Sync would (the checkpoint
	// st, then the run id on the server) and reads it back: it sets
	// res.Action (ActionCreate, ActionUpdate, ActionUpToDate or
	// ActionBehind), res.Changes for an update ("12 of 40 scalars
	// missing", "task not completed"), and res.RemoteID and res.URL when
	// the remote run exists. It sends only reads. st is a read-only copy:
	// saving it does nothing.
	Preview(ctx context.Context, run *Run, st *State, res *Result) error
}

// preview fills res with what a sync of run would do: the replayer's
// Preview when it has one (given the checkpoint, read-only), else an
// offline export's write.
func preview(ctx context.Context, run *Run, r Target, opts BatchOptions, res *Result) error {
	p, ok := r.(Previewer)
	if !ok {
		res.Action = ActionWrite
		return nil
	}
	st := &State{Version: StateVersion, Destination: r.Destination(), RunID: run.RunID()}
	if opts.Store != nil {
		var err error
		if st, err = opts.Store.Load(r.Destination(), run.RunID()); err != nil {
			return err
		}
		st.store = nil // read-only: a dry run leaves the checkpoint alone
	}
	if opts.Force {
		// --force makes a fresh remote run whatever exists.
		res.Action = ActionCreate
		return nil
	}
	if st.Archive != run.Digest() {
		// Another archive of the run: a sync redoes every step.
		st.Synced = false
		st.Done = nil
	}
	return p.Preview(ctx, run, st, res)
}
