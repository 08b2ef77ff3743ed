package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// StatusCmd is `yoloarchive status`.
type StatusCmd struct {
	Archives []string `arg:"" optional:"" name:"ARCHIVE" help:"Archives to report on (a chain: any link, or its NAME.tar.zst); default: every checkpoint of the state directory."`
	Clean    bool     `help:"Remove the checkpoints of archives that no longer exist and lock files no live sync holds."`
	StateDir string   `placeholder:"DIR" help:"Where sync checkpoints are kept (default: $YOLOARCHIVE_STATE_DIR, else $XDG_STATE_HOME/yoloarchive, else ~/.local/state/yoloarchive)."`
	JSON     bool     `help:"Print one JSON object per archive and destination on stdout."`
}

// Help is shown by --help.
func (c *StatusCmd) Help() string {
	return `Says what the sync checkpoints record, without contacting any server: for each archive
and destination, one of
  synced       the archive (every link of a finished chain) was synced and read back
  partial      a chain of a run still training was synced as far as its links go
  out-of-date  the archive holds more than was sent (new links, another capture): sync again
  behind       the destination holds a later state of the run than this archive
  failed       the last sync stopped before it finished: running it again resumes
  syncing      a sync of the run to that destination is running now
  not-synced   no checkpoint for this run (given archives only)
with the remote id and link and when it was synced. Given archives are read whole
(verified, and compared by digest); without archives, every checkpoint is listed and
judged by its archive's recorded path, when it has one (headers only).

` + exitCodesHelp
}

func (c *StatusCmd) store() *ysync.Store {
	dir := c.StateDir
	if dir == "" {
		dir = ysync.DefaultStateDir()
	}
	return &ysync.Store{Dir: dir}
}

// Run reports the checkpoints.
func (c *StatusCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	st := c.store()
	if c.Clean {
		res, err := st.Clean()
		if err != nil {
			return err
		}
		switch {
		case c.JSON:
			b, _ := json.Marshal(map[string]any{"status": "cleaned", "removed": res})
			fmt.Fprintln(stdout, string(b))
		case !g.Quiet:
			for _, f := range res.States {
				printf(stdout, "removed %s (its archive no longer exists)\n", f)
			}
			for _, f := range res.Locks {
				printf(stdout, "removed %s (a lock no live sync holds)\n", f)
			}
			if len(res.Kept) > 0 {
				printf(stdout, "kept %d checkpoints written before yoloarchive recorded archive paths (a sync of their archive records it)\n", len(res.Kept))
			}
			printf(stdout, "cleaned: %d checkpoints, %d locks removed\n", len(res.States), len(res.Locks))
		}
		if len(c.Archives) == 0 {
			return nil
		}
	}
	cps, err := st.Checkpoints()
	if err != nil {
		return err
	}
	var checks []ysync.Standing
	ok, failed := 0, 0
	if len(c.Archives) == 0 {
		for _, cp := range cps {
			checks = append(checks, ysync.StandingOf(cp, nil))
		}
	}
	for _, p := range c.Archives {
		if err := ctx.Err(); err != nil {
			return err
		}
		run, err := ysync.Open(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			msg := describeArchiveErr(err)
			if c.JSON {
				b, _ := json.Marshal(ysync.Standing{Archive: p, Status: statusFailed, Error: msg})
				fmt.Fprintln(stdout, string(b))
			} else {
				problemLine(stderr, statusFailed, p, msg)
			}
			continue
		}
		ok++
		abs, _ := filepath.Abs(run.Path)
		a := &ysync.ArchiveState{Path: run.Path, RunID: run.RunID(), Digest: run.Digest(), Links: run.Links(), Final: run.Final()}
		found := false
		for _, cp := range cps {
			if cp.State == nil || cp.State.RunID != a.RunID {
				continue
			}
			found = true
			ch := ysync.StandingOf(cp, a)
			if cp.State.Path != "" && cp.State.Path != abs {
				ch.Detail += fmt.Sprintf(" (the checkpoint was written for %s)", cp.State.Path)
			}
			checks = append(checks, ch)
		}
		run.Close()
		if !found {
			checks = append(checks, ysync.Standing{Archive: run.Path, RunID: a.RunID, Status: "not-synced", Detail: "no checkpoint for this run in " + st.Dir})
		}
	}
	if c.JSON {
		for _, ch := range checks {
			b, _ := json.Marshal(ch)
			fmt.Fprintln(stdout, string(b))
		}
	} else if !g.Quiet {
		printChecks(stdout, checks, g.Verbose)
		if len(checks) == 0 && len(c.Archives) == 0 {
			printf(stdout, "no sync checkpoints in %s\n", st.Dir)
		}
	}
	return outcome(ok, failed)
}

func printChecks(w io.Writer, checks []ysync.Standing, verbose bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ch := range checks {
		archive := ch.Archive
		if archive == "" {
			archive = "run " + ch.RunID
		}
		remote := orDash(ch.RemoteID)
		if ch.URL != "" {
			remote = ch.URL
		}
		when := "-"
		switch {
		case ch.SyncedAt != nil:
			when = ch.SyncedAt.Local().Format("2006-01-02 15:04")
		case ch.Updated != nil:
			when = "last step " + ch.Updated.Local().Format("2006-01-02 15:04")
		}
		if ch.Error != "" {
			printf(tw, "%s\t%s\t%s\n", ch.Status, ch.Checkpoint, ch.Error)
			continue
		}
		printf(tw, "%s\t%s\t%s\t%s\t%s\n", ch.Status, archive, orDash(ch.Destination), remote, when)
		if verbose && ch.Detail != "" {
			printf(tw, "\t  %s\n", ch.Detail)
		}
	}
	tw.Flush()
}
