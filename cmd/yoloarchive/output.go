package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kong"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Globals are the flags every command takes.
type Globals struct {
	Version          kong.VersionFlag `help:"Print the version and exit."`
	Quiet            bool             `short:"q" help:"Print only failures, warnings and the final count: no progress, no line per input."`
	Verbose          bool             `short:"v" help:"Also list each input's gaps, with the reasons."`
	ProgressInterval time.Duration    `default:"10s" env:"YOLOARCHIVE_PROGRESS_INTERVAL" placeholder:"DURATION" help:"How often a progress line is printed when stderr is not a terminal (on a terminal, bars are drawn)."`
	Budget           string           `env:"YOLOARCHIVE_BUDGET" placeholder:"KEY=N,..." help:"Raise or lower the resource budget of every archive read, e.g. rows=50M,tables=32GiB. Keys: entry, total, tables (bytes), rows (per table), value (bytes decoded per Parquet page), pixels (per image); for session zips, zip-entries, zip-total (bytes declared), zip-ratio (per entry over 1 MiB), zip-ratio-all (all entries, over 64 MiB). Defaults: ${budget}."`

	budget archive.Limits // Budget parsed
}

// Validate checks the global flags.
func (g *Globals) Validate() error {
	if g.Quiet && g.Verbose {
		return errors.New("-q and -v contradict each other: use one")
	}
	if g.ProgressInterval <= 0 {
		return errors.New("--progress-interval must be positive")
	}
	b, err := archive.ParseBudget(g.Budget)
	if err != nil {
		return fmt.Errorf("--budget: %w", err)
	}
	g.budget = b
	return nil
}

// progress starts the progress report of a batch of total items on
// stderr, or returns nil with -q. It hands the progress the writer inside
// Stderr (os.Stderr itself), so that it can tell a terminal.
func (g *Globals) progress(stderr *Stderr, verb, noun string, total int) *ysync.Progress {
	if g.Quiet {
		return nil
	}
	return ysync.NewProgress(stderr.Writer, ysync.ProgressOptions{Verb: verb, Noun: noun, Total: total, Interval: g.ProgressInterval})
}

// helpValue adds a flag's default to its help text, unless the text
// already says what the default is.
func helpValue(v *kong.Value) string {
	help := kong.DefaultHelpValueFormatter(v)
	if !v.HasDefault || v.Default == "" || v.IsBool() || strings.Contains(help, "(default") {
		return help
	}
	return strings.TrimSuffix(help, ".") + " (default: " + v.Default + ")."
}

// statusFailed is the status of an input that failed, in every command's
// JSON report and human lines.
const statusFailed = "failed"

// problemLine reports an input that failed (or was interrupted), in the
// same form in every command: "failed: PATH: what went wrong".
func problemLine(w io.Writer, status, input, msg string) {
	printf(w, "%s: %s\n", status, withPath(input, oneLine(msg)))
}

// gapTally counts the gaps of a batch's inputs by item, so that a batch
// reports them once instead of once per input.
type gapTally struct {
	mu     sync.Mutex
	inputs int
	count  map[string]int
}

// add counts one input's gaps, each item once.
func (t *gapTally) add(gaps []schemas.GapRow) {
	if len(gaps) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.count == nil {
		t.count = map[string]int{}
	}
	t.inputs++
	seen := map[string]bool{}
	for _, g := range gaps {
		if !seen[g.Item] {
			seen[g.Item] = true
			t.count[g.Item]++
		}
	}
}

// print writes the summary: how many inputs have gaps, then each item
// with the number of inputs that lack it, most frequent first; for a
// single input, its items on one line. how says where the details of a
// batch's are.
func (t *gapTally) print(w io.Writer, total int, noun, how string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inputs == 0 {
		return
	}
	items := make([]string, 0, len(t.count))
	for k := range t.count {
		items = append(items, k)
	}
	sort.Slice(items, func(i, j int) bool {
		if a, b := t.count[items[i]], t.count[items[j]]; a != b {
			return a > b
		}
		return items[i] < items[j]
	})
	if total == 1 {
		printf(w, "gaps: %s (-v gives the reasons)\n", strings.Join(items, ", "))
		return
	}
	printf(w, "gaps in %d of %d %s, by item (%s):\n", t.inputs, total, noun, how)
	for _, k := range items {
		printf(w, "  %4d  %s\n", t.count[k], k)
	}
}

// printGaps lists one input's gaps (-v).
func printGaps(w io.Writer, gaps []schemas.GapRow) {
	for _, g := range gaps {
		printf(w, "  gap %s: %s\n", g.Item, oneLine(g.Reason))
		if g.Hint != "" {
			printf(w, "    to recover: %s\n", oneLine(g.Hint))
		}
	}
}
