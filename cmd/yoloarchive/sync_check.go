package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// check runs the preflight alone (--check): the destination, and the
// projects the archives in paths name, if any.
func (c *SyncCmd) check(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr, r ysync.Target) error {
	paths, notes := chain.Group(c.Archives)
	for _, n := range notes {
		printLine(stderr, n)
	}
	var projects []string
	for _, p := range paths {
		run, err := ysync.Open(ctx, p)
		if err != nil {
			printf(stderr, "warning: %s: its project is not checked: %s\n", p, oneLine(err.Error()))
			continue
		}
		plan, err := r.Plan(ctx, run)
		run.Close()
		if err != nil {
			printf(stderr, "warning: %s: its project is not checked: %s\n", p, oneLine(err.Error()))
			continue
		}
		projects = append(projects, plan.Project)
	}
	chk, err := ysync.Preflight(ctx, r, projects)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case c.JSON:
		b, _ := json.Marshal(chk)
		fmt.Fprintln(stdout, string(b))
	case err == nil && !g.Quiet:
		printLine(stdout, checkLine(*chk))
	}
	if err != nil {
		return &codeError{code: exitFailure, msg: "check failed: " + oneLine(err.Error())}
	}
	return nil
}

// preflightFailed reports a failed preflight: one line, and with --json
// one object per archive (not attempted).
func (c *SyncCmd) preflightFailed(ctx context.Context, stdout *Stdout, r ysync.Target, err error) error {
	var pe *ysync.PreflightError
	if !errors.As(err, &pe) {
		return err // interrupted
	}
	stop := ysync.Stop{Preflight: true, Cause: pe.Cause, Reason: pe.Error()}
	paths, _ := chain.Group(c.Archives)
	if c.JSON {
		for _, p := range paths {
			b, _ := json.Marshal(stop.NotAttempted(p, r.Destination()))
			fmt.Fprintln(stdout, string(b))
		}
	}
	return stopped(stop, r.Destination(), 0, 0, len(paths))
}

// checkLine is a passed preflight on one line: "DEST: ok (0.2s): note;
// note".
func checkLine(chk ysync.Check) string {
	line := fmt.Sprintf("%s: ok (%.1fs)", chk.Destination, chk.Seconds)
	if len(chk.Notes) > 0 {
		line += ": " + strings.Join(chk.Notes, "; ")
	}
	return line
}

// stopped is the outcome of a batch that stopped early: one line that
// says why and how many archives were not attempted; exit 1 when nothing
// succeeded, 3 when some did.
func stopped(s ysync.Stop, dest string, ok, failed, skipped int) error {
	code := exitFailure
	if ok > 0 {
		code = exitPartial
	}
	if s.Preflight {
		return &codeError{code: code, msg: fmt.Sprintf("%s; nothing was sent (%d %s not attempted)", s.Reason, skipped, plural(skipped, "archive"))}
	}
	return &codeError{code: code, msg: fmt.Sprintf("stopped: %d archives in a row failed (%s): %s; %d synced, %d failed, %d not attempted: run the same command again when %s is back",
		s.Failed, s.Cause, s.Reason, ok, failed, skipped, dest)}
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// dryRunLine prints what a sync of one archive would do.
func dryRunLine(w io.Writer, res ysync.Result) {
	p := res.Plan
	counts := fmt.Sprintf("%d parameters, %d scalars, %d single values, %d images, %d plots, %d assets, model %s, uploads %s",
		p.Parameters, p.Scalars, p.SingleValues, p.Images, p.Plots, p.Assets, bytesOrNone(p.ModelBytes), bytesOrNone(p.UploadBytes))
	where := res.URL
	if where == "" {
		where = res.RemoteID
	}
	switch res.Action {
	case ysync.ActionCreate, ysync.ActionWrite:
		verb := "create"
		if res.Action == ysync.ActionWrite {
			verb = "write"
		}
		printf(w, "%s: would %s run %s in %s as project %q, name %q: %s\n", res.Archive, verb, res.RunID, res.Destination, p.Project, p.Name, counts)
	case ysync.ActionUpdate:
		printf(w, "%s: would update %s: %s\n", res.Archive, where, strings.Join(res.Changes, "; "))
	case ysync.ActionUpToDate:
		printf(w, "%s: up-to-date %s: nothing to send\n", res.Archive, where)
	case ysync.ActionBehind:
		printf(w, "%s: behind %s: the remote run holds a later, finished state of this run: nothing would be sent\n", res.Archive, where)
	}
}
