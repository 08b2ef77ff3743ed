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
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	_ "github.com/yoloarchive/yoloarchive/sync/mlflow" // registers --to mlflow and mlflow-dir
)

// SyncCmd is `yoloarchive sync`.
type SyncCmd struct {
	Archives []string `arg:"" optional:"" name:"ARCHIVE" help:"Archives (.tar.zst) to replay. The links of a chain written by capture --follow (NAME.000.tar.zst, ...; any of them, or NAME.tar.zst) sync as one run."`
	To       string   `required:"" enum:"${sync_to}" placeholder:"TRACKER" help:"Destination: ${sync_to_help}."`
	Out      string   `short:"o" placeholder:"DIR" help:"Output directory for offline exports (default: ${sync_out})."`
	Project  string   `placeholder:"NAME" help:"Project to sync into (default: the run's project, as the callback names it)."`
	Name     string   `placeholder:"NAME" help:"Task or experiment name (default: the run's name). Only with a single archive."`
	Tags     []string `placeholder:"TAG" help:"Extra tags (repeat or comma-separate)."`
	Force    bool     `help:"Make a fresh task or experiment even if this run was synced before (the old one is kept)."`
	DryRun   bool     `help:"Send nothing: ask the server (read-only) what a sync would do with each archive: create its run, update it (and what it lacks), nothing (up-to-date), or nothing because the server holds a later state (behind)."`
	Check    bool     `help:"Only check the destination and exit: the server answers, takes the credentials, and has the workspace; the project (--project, or the archives' if given) exists or will be created. Offline exports: the output directory is writable."`
	Jobs     int      `short:"j" default:"2" placeholder:"N" help:"Archives to sync in parallel."`
	JSON     bool     `help:"Print one JSON result object per archive on stdout."`
	StateDir string   `placeholder:"DIR" help:"Where sync checkpoints are kept (default: $YOLOARCHIVE_STATE_DIR, else $XDG_STATE_HOME/yoloarchive, else ~/.local/state/yoloarchive)."`
	Version  string   `name:"ultralytics-version" placeholder:"X.Y.Z" help:"Replay as this Ultralytics version's callback (default: the archive's version, or the lower bound of its inferred range)."`

	// One flag group per tracker (see trackerFlags); the --to values come
	// from the registry (sync.Register).
	ClearML clearml.Flags `embed:"" prefix:"clearml-" group:"ClearML (default: CLEARML_* variables, else CLEARML_CONFIG_FILE or ~/clearml.conf)"`
	Comet   comet.Flags   `embed:"" prefix:"comet-" group:"Comet (default: COMET_* variables, else COMET_CONFIG, ./.comet.config or ~/.comet.config)"`
}

// trackerFlags returns the flag group of a registered tracker (nil for a
// tracker with none, as MLflow, which reads only its MLFLOW_* variables).
func (c *SyncCmd) trackerFlags(tracker string) any {
	switch tracker {
	case "clearml":
		return &c.ClearML
	case "comet":
		return &c.Comet
	}
	return nil
}

// Help is shown by --help.
func (c *SyncCmd) Help() string {
	return `Replays archives into a tracker so that each run looks as if Ultralytics' own
callback had logged it live: same metric names, steps, values, images, plots,
single values and model. What the archives cannot provide (their gaps) is summarised
once for the batch; -v lists each run's, and --json holds them per run.

Sync is idempotent: the remote run is found by the archive's run id before
anything is created, so a re-run or a sync from another machine updates the same
task or experiment. A checkpoint per archive lets an interrupted sync resume.
A run is reported synced only after reading it back. A chain of a run still
training (capture --follow) syncs as far as its links go, sending only what the
links since the last sync add, and leaves the remote run open ("partial") until
its final link arrives; links being written are never read. One failing archive never
stops the others. Credentials come from the trackers' own variables and files
and never appear in output.

Before the first archive, a preflight checks the destination within seconds
(as --check does): if the server cannot be reached or refuses the credentials,
one line says so, nothing is sent and the exit code is 1. If 3 archives in a
row then fail for the same reason (unreachable, credentials refused, server
errors, rate limits beyond the retries), the batch stops and reports the rest
as not attempted; a damaged archive never stops it.

` + exitCodesHelp
}

// Validate checks flag combinations.
func (c *SyncCmd) Validate() error {
	if len(c.Archives) == 0 && !c.Check {
		return errors.New("expected one or more ARCHIVE arguments (or --check to check the destination only)")
	}
	if c.Check && c.DryRun {
		return errors.New("--check and --dry-run contradict each other: --check asks only about the destination, --dry-run about each archive")
	}
	if c.Name != "" && len(c.Archives) > 1 {
		return errors.New("--name names one run: use it with a single ARCHIVE")
	}
	if k, ok := ysync.Lookup(c.To); ok {
		if c.Out != "" && !k.Offline {
			var offline []string
			for _, k := range ysync.Kinds() {
				if k.Offline {
					offline = append(offline, k.Name)
				}
			}
			return fmt.Errorf("-o is for offline exports (--to %s)", strings.Join(offline, ", "))
		}
		if len(c.Tags) > 0 && k.NoTags != "" {
			return errors.New("--tags: " + k.NoTags)
		}
	}
	if c.Jobs < 1 {
		return errors.New("-j must be at least 1")
	}
	return nil
}

// Run syncs the archives.
func (c *SyncCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	var tags []string
	for _, t := range c.Tags {
		for _, x := range strings.Split(t, ",") {
			if x = strings.TrimSpace(x); x != "" {
				tags = append(tags, x)
			}
		}
	}
	r, store, err := c.replayer(tags)
	if err != nil {
		return &codeError{code: exitFailure, msg: oneLine(err.Error())}
	}
	if c.Check {
		return c.check(ctx, g, stdout, stderr, r)
	}
	// The preflight comes first: a dead or refusing destination is told
	// within seconds, whatever the number of archives.
	chk, err := ysync.Preflight(ctx, r, nil)
	if err != nil {
		return c.preflightFailed(ctx, stdout, r, err)
	}
	if g.Verbose {
		printLine(stderr, checkLine(*chk))
	}
	// The links of a chain (run.000.tar.zst, ...) are synced as one run.
	paths, notes := chain.Group(c.Archives)
	for _, n := range notes {
		printLine(stderr, n)
	}
	prog := g.progress(stderr, "sync", "archives", len(paths))
	// While bars are drawn, lines go above them.
	out, errOut := escaped(prog.Writer(stdout.Writer)), escaped(prog.Writer(stderr.Writer))
	var gaps gapTally
	var stop *ysync.Stop
	opts := ysync.BatchOptions{Jobs: c.Jobs, DryRun: c.DryRun, Force: c.Force, Store: store, Progress: prog, NoPreflight: true,
		OnStop: func(s ysync.Stop) { stop = &s },
		OnResult: func(res ysync.Result) {
			c.report(g, out, errOut, res)
			if res.OK() && res.Status != ysync.StatusBehind {
				gaps.add(res.Gaps)
			}
		}}
	results := ysync.Batch(ctx, paths, r, opts)
	prog.Wait()
	if !c.JSON && !g.Quiet && !g.Verbose {
		gaps.print(stdout, len(paths), "archives", "-v lists each archive's, with the reasons")
	}
	ok, failed, skipped := 0, 0, 0
	for _, res := range results {
		switch {
		case res.OK():
			ok++
		case res.Status == ysync.StatusNotAttempted:
			skipped++
		default:
			failed++
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if stop != nil {
		return stopped(*stop, r.Destination(), ok, failed, skipped)
	}
	return outcome(ok, failed)
}

// replayer builds the destination registered as --to from flags,
// environment and configuration files.
func (c *SyncCmd) replayer(tags []string) (ysync.Target, *ysync.Store, error) {
	k, ok := ysync.Lookup(c.To)
	if !ok {
		return nil, nil, fmt.Errorf("--to %s: not a destination (one of %s)", c.To, ysync.KindNames())
	}
	o := ysync.Options{Project: c.Project, Name: c.Name, Tags: tags, Version: c.Version, Out: c.Out}
	if k.Offline && o.Out == "" {
		o.Out = k.DefaultOut
	}
	t, err := k.New(o, c.trackerFlags(k.Tracker))
	if err != nil {
		return nil, nil, err
	}
	if k.Offline {
		// Offline exports are rewritten whole each time: no checkpoints.
		return t, nil, nil
	}
	dir := c.StateDir
	if dir == "" {
		dir = ysync.DefaultStateDir()
	}
	return t, &ysync.Store{Dir: dir}, nil
}

// report prints one archive's result: a JSON line with --json, else a
// human line on stdout (failures and warnings on stderr). Its gaps are
// listed with -v; otherwise they are counted into the batch's summary.
func (c *SyncCmd) report(g *Globals, stdout, stderr io.Writer, res ysync.Result) {
	if c.JSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
		return
	}
	switch res.Status {
	case ysync.StatusFailed, ysync.StatusInterrupted:
		problemLine(stderr, res.Status, res.Archive, res.Error)
		return
	case ysync.StatusNotAttempted:
		return // counted once, at the end of the batch
	}
	for _, w := range res.Warnings {
		printf(stderr, "warning: %s: %s\n", res.Archive, oneLine(w))
	}
	if g.Quiet {
		return
	}
	switch res.Status {
	case ysync.StatusDryRun:
		dryRunLine(stdout, res)
	default:
		where := res.URL
		if res.Output != "" {
			where = res.Output
		}
		extra := ""
		if res.Resumed {
			extra = ", resumed"
		}
		if res.Links > 0 {
			extra += fmt.Sprintf(", %d links", res.Links)
		}
		printf(stdout, "%s: %s %s (%d requests, %d retries, %d skipped%s, %.1fs)\n", res.Archive, res.Status, where,
			res.Requests, res.Retries, res.Skipped, extra, res.Seconds)
		if res.Status == ysync.StatusPartial {
			printf(stdout, "  the run is still training: the remote run stays open until the chain's final link is synced\n")
		}
		if res.Status == ysync.StatusBehind {
			printf(stdout, "  the remote run already holds a later, finished state of this run: nothing was sent\n")
			return
		}
	}
	if g.Verbose {
		printGaps(stdout, res.Gaps)
	}
}

func bytesOrNone(n int64) string {
	if n == 0 {
		return "none"
	}
	return humanBytes(n)
}
