// Command yoloarchive captures Ultralytics YOLO training runs into
// self-contained, verifiable archives, and replays them into experiment
// trackers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	// First among our imports to initialise: see its doc.
	_ "github.com/yoloarchive/yoloarchive/cmd/yoloarchive/internal/prefault"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = ""

// Exit codes, documented in --help and the README.
const (
	exitOK          = 0   // everything succeeded
	exitFailure     = 1   // the command failed (every input, or before any)
	exitPartial     = 3   // some inputs succeeded and some failed
	exitUsage       = 80  // bad command line (kong's code)
	exitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM)
)

const exitCodesHelp = `Exit codes: 0 all succeeded; 1 failed; 3 partial (some inputs failed, the others succeeded); 80 usage error; 130 interrupted.`

// CLI is the command line.
type CLI struct {
	Globals

	Capture CaptureCmd `cmd:"" help:"Capture run directories into archives."`
	Inspect InspectCmd `cmd:"" aliases:"compare" help:"Show what an archive holds and what it lacks; several runs' best and final values side by side."`
	Verify  VerifyCmd  `cmd:"" help:"Check archives completely: structure, checksums, tables."`
	Sync    SyncCmd    `cmd:"" help:"Replay archives into a tracker's server, or write its offline format (--to lists them)."`
	Export  ExportCmd  `cmd:"" help:"Write archives' tables as a Parquet dataset, Arrow IPC streams or CSV."`
	Restore RestoreCmd `cmd:"" help:"Write a run directory back from its archive."`
	Status  StatusCmd  `cmd:"" help:"Show what has been synced where, from the sync checkpoints."`
	Report  ReportCmd  `cmd:"" help:"Write one self-contained HTML page showing runs side by side."`
}

// Stdout and Stderr are where commands write; tests replace them.
type Stdout struct{ io.Writer }

// Stderr is where commands write errors and progress.
type Stderr struct{ io.Writer }

// defaultMemoryLimit is the Go heap's soft limit unless GOMEMLIMIT sets
// one: the garbage collector works harder near it instead of letting the
// heap double, so a bulk capture or sync stays well under 256 MB of RSS
// (about 90 MB of which are the OpenCV libraries every run maps).
const defaultMemoryLimit = 128 << 20

// ready is called once signals are handled; a test hook (see
// ready_testhooks.go) sets it.
var ready = func() {}

// watchdogFired is called when the watchdog ends the command, before it
// removes the scratch files; a test hook (see ready_testhooks.go) sets it
// to tell a command that stopped by its own cancellation from one the
// watchdog stopped.
var watchdogFired = func() {}

// grace is how long a command has to unwind after Ctrl-C or SIGTERM
// before the watchdog removes its scratch files and exits.
const grace = 1500 * time.Millisecond

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	startGC()
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go watchdog(sigs, cancel, grace)
	ready()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(code)
}

// watchdog cancels the command's context on the first signal, then gives
// it grace to unwind. A command stuck in work that cannot be cancelled
// (a parser that never returns, a read of a hung file system) still
// stops: after grace, or at a second signal, the watchdog removes every
// scratch file the command left and exits with 130. It waits for renames
// in progress (scratch.Critical) so that nothing is left half-replaced.
func watchdog(sigs <-chan os.Signal, cancel context.CancelFunc, grace time.Duration) {
	<-sigs
	cancel()
	select {
	case <-sigs:
	case <-time.After(grace):
	}
	watchdogFired()
	scratch.RemoveAll()
	fmt.Fprintln(os.Stderr, "yoloarchive: interrupted")
	os.Exit(exitInterrupted)
}

// run parses args, runs the command and returns the exit code. kong
// builds the model of the named command alone where it can
// (narrowGrammar), else of the whole CLI.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	exited := -1
	opts := append(cliVars(version()),
		kong.Name("yoloarchive"),
		kong.Description("Capture Ultralytics YOLO runs into verifiable archives and replay them into experiment trackers.\n\n"+exitCodesHelp),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exited = code; panic(exitPanic{}) }),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.ValueFormatter(helpValue),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(&Stdout{stdout}, &Stderr{stderr}),
	)
	var kctx *kong.Context
	g, narrowed := narrowGrammar(args)
	if narrowed {
		// The small grammar's answer stands when it exits (--help,
		// --version) or selects the command; its errors, and a command
		// line without a command, are the whole CLI's to answer.
		parser, err := kong.New(g.target, opts...)
		if err != nil {
			fmt.Fprintln(stderr, "yoloarchive:", err)
			return exitFailure
		}
		var code int
		var done bool
		kctx, code, done, err = parse(parser, args, &exited)
		switch {
		case done:
			return code
		case err != nil || kctx.Command() == "":
			narrowed = false
		}
	}
	if !narrowed {
		g = fullGrammar()
		parser, err := kong.New(g.target, opts...)
		if err != nil {
			fmt.Fprintln(stderr, "yoloarchive:", err)
			return exitFailure
		}
		kctx, _, _, err = parse(parser, args, &exited)
		if kctx == nil {
			if err == nil {
				return exited // --help or --version
			}
			parser.Errorf("%s", err)
			return exitUsage
		}
	}
	// One budget for every archive the command reads.
	kctx.BindTo(archive.WithBudget(ctx, g.globals.budget), (*context.Context)(nil))
	return exitCode(ctx, kctx.Run(g.globals), escaped(stderr))
}

// exitPanic unwinds kong's Exit (called for --help and --version).
type exitPanic struct{}

// parse runs the parser, turning kong's Exit calls (--help, --version)
// into exit codes: done is true when kong exited, with its code.
func parse(parser *kong.Kong, args []string, exited *int) (kctx *kong.Context, code int, done bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exitPanic); !ok {
				panic(r)
			}
			kctx, code, done, err = nil, *exited, true, nil
		}
	}()
	kctx, err = parser.Parse(args)
	return kctx, 0, false, err
}

// exitCode reports err on stderr and maps it to an exit code.
func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	var ce *codeError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		// Interrupted, even if the command got to its end: a script
		// learns that a signal came, and runs the command again.
		fmt.Fprintln(stderr, "yoloarchive: interrupted")
		return exitInterrupted
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		if ce.msg != "" {
			fmt.Fprintln(stderr, "yoloarchive:", ce.msg)
		}
		return ce.code
	}
	fmt.Fprintln(stderr, "yoloarchive: error:", oneLine(err.Error()))
	return exitFailure
}

// codeError carries a specific exit code out of a command; its message
// (possibly empty when the command already reported) goes to stderr.
type codeError struct {
	code int
	msg  string
}

func (e *codeError) Error() string { return e.msg }

// outcome turns per-input success counts into the command's error.
func outcome(ok, failed int) error {
	switch {
	case failed == 0:
		return nil
	case ok == 0:
		return &codeError{code: exitFailure, msg: fmt.Sprintf("%d of %d failed", failed, ok+failed)}
	}
	return &codeError{code: exitPartial, msg: fmt.Sprintf("%d of %d failed (partial)", failed, ok+failed)}
}

// oneLine folds a message onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// version returns the build's version: the one the linker flags set
// (make build), else the module version and VCS revision of the build
// info, as go build records them ("v0.0.0-20261204124331-bcf385c5926a
// (bcf385c, modified)").
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(Version, bi)
}

// versionOf is version for the given linker-set version and build info
// (nil when there is none).
func versionOf(ldflags string, bi *debug.BuildInfo) string {
	if ldflags != "" {
		return ldflags
	}
	if bi == nil {
		return "dev"
	}
	v := strings.TrimSuffix(bi.Main.Version, "+dirty") // said below, as "modified"
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var rev string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	rev = rev[:min(len(rev), 7)]
	if modified {
		rev += ", modified"
	}
	return v + " (" + rev + ")"
}

// cliVars gives the CLI's tags their variables: the version to every
// value (kong's --version flag reads it from the application's variables),
// and the default budget and sync's --to values and help (from the
// registry of destinations) only to the flags whose tags use them. kong
// interpolates every variable it is given into every flag's tags, by
// regexp: given to the whole application, these 600 characters cost about
// 4 ms at each start (71 values), for three flags.
func cliVars(version string) []kong.Option {
	scoped := kong.Vars{"budget": archive.Limits{}.String(),
		"sync_to": ysync.KindNames(), "sync_to_help": ysync.KindsHelp(), "sync_out": ysync.OutDefaults()}
	return []kong.Option{
		kong.Vars{"version": version},
		kong.PostBuild(func(k *kong.Kong) error { return scopeVars(k.Model, scoped) }),
	}
}

// scopeVars adds vars to the variables of each value whose tags refer to
// a variable (${…}); kong interpolates them into that value alone.
func scopeVars(app *kong.Application, vars kong.Vars) error {
	return kong.Visit(app, func(node kong.Visitable, next kong.Next) error {
		if v, ok := node.(*kong.Value); ok && refersToVars(v) {
			v.Tag.Vars = v.Tag.Vars.CloneWith(vars)
		}
		return next(nil)
	})
}

// refersToVars reports whether any of the tags kong interpolates for v
// holds a ${…}.
func refersToVars(v *kong.Value) bool {
	texts := append([]string{v.Help, v.Default, v.Enum}, v.Tag.Envs...)
	if v.Flag != nil {
		texts = append(texts, v.Flag.PlaceHolder)
	}
	for _, s := range texts {
		if strings.Contains(s, "${") {
			return true
		}
	}
	return false
}
