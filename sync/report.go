package sync

import (
	"slices"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// Statuses of a Result.
const (
	// StatusSynced: the remote run was written and its read-back matched.
	StatusSynced = "synced"
	// StatusUpToDate: the checkpoint and the remote run both show this
	// archive synced already; nothing was sent.
	StatusUpToDate = "up-to-date"
	// StatusWritten: an offline export was written.
	StatusWritten = "written"
	// StatusDryRun: nothing was sent; Plan says what would be.
	StatusDryRun = "dry-run"
	// StatusFailed: see Error. The run is not recorded as synced; a re-run
	// resumes.
	StatusFailed = "failed"
	// StatusInterrupted: the sync was cancelled; a re-run resumes.
	StatusInterrupted = "interrupted"
	// StatusPartial: a chain of a run still training was synced as far
	// as its links go and read back; the remote run stays open until the
	// final link is synced.
	StatusPartial = "partial"
	// StatusBehind: the remote run is already complete with a later state
	// of the run (the chain's final link, or a capture of the finished
	// run); this earlier, unfinished state was not sent.
	StatusBehind = "behind"
	// StatusNotAttempted: the batch stopped before this archive, because
	// its destination failed the preflight or failed several archives in
	// a row for the same cause (see Error); nothing was sent, and a
	// re-run syncs it.
	StatusNotAttempted = "not-attempted"
)

// Actions of a dry run (Result.Action): what a sync would do.
const (
	// ActionCreate: no remote run has the archive's run id; a sync
	// creates one.
	ActionCreate = "create"
	// ActionUpdate: the remote run exists and lacks something (Changes).
	ActionUpdate = "update"
	// ActionUpToDate: the remote run holds everything; a sync sends
	// nothing.
	ActionUpToDate = "up-to-date"
	// ActionBehind: the remote run holds a later, finished state of the
	// run; a sync of this earlier state sends nothing.
	ActionBehind = "behind"
	// ActionWrite: an offline export would be written.
	ActionWrite = "write"
)

// Plan counts what a sync sends for one archive.
type Plan struct {
	Project      string `json:"project"`
	Name         string `json:"name"`
	Parameters   int    `json:"parameters"`
	Scalars      int    `json:"scalars"`
	SingleValues int    `json:"single_values"`
	Images       int    `json:"images"`
	Plots        int    `json:"plots"`
	Assets       int    `json:"assets"`
	ModelBytes   int64  `json:"model_bytes"`
	UploadBytes  int64  `json:"upload_bytes"`
}

// Result is the outcome of syncing one archive: one object of the JSON
// report.
type Result struct {
	Archive     string `json:"archive"`
	RunID       string `json:"run_id,omitempty"`
	Destination string `json:"destination"`
	Status      string `json:"status"`
	RemoteID    string `json:"remote_id,omitempty"`
	URL         string `json:"url,omitempty"`
	// Output is the file or directory an offline export wrote.
	Output string `json:"output,omitempty"`
	Plan   *Plan  `json:"plan,omitempty"`
	// Resumed is set when a checkpoint of an earlier, unfinished sync was
	// continued.
	Resumed bool `json:"resumed,omitempty"`
	// Requests and Retries count HTTP requests (retries included).
	Requests int64 `json:"requests"`
	Retries  int64 `json:"retries"`
	// Warnings are problems that did not stop the sync.
	Warnings []string `json:"warnings,omitempty"`
	// Links is the number of chain links synced (0 for an archive).
	Links int `json:"links,omitempty"`
	// Skipped counts items that were already on the remote side.
	Skipped int `json:"skipped"`
	// Gaps lists what the live callback would have logged that this
	// replay cannot: the archive's gaps that affect the tracker, and what
	// the destination cannot take (the same objects as capture's and
	// inspect's "gaps"; named "not_recoverable", as strings, before).
	Gaps []schemas.GapRow `json:"gaps,omitempty"`
	// Action is what a sync would do (dry runs): create, update,
	// up-to-date, behind or write; Changes say what an update would send
	// ("12 of 40 scalars missing", "task not completed").
	Action  string   `json:"action,omitempty"`
	Changes []string `json:"changes,omitempty"`
	Error   string   `json:"error,omitempty"`
	// Cause classifies a failure of the destination (unreachable,
	// credentials refused, server error, rate-limited); empty for a
	// failure of the archive itself.
	Cause   Cause   `json:"cause,omitempty"`
	Seconds float64 `json:"seconds"`
}

// OK reports whether the archive's sync succeeded.
func (r *Result) OK() bool {
	switch r.Status {
	case StatusSynced, StatusUpToDate, StatusWritten, StatusDryRun, StatusPartial, StatusBehind:
		return true
	}
	return false
}

// GapLines returns the result's gaps as "item: reason" lines.
func (r *Result) GapLines() []string {
	out := make([]string, len(r.Gaps))
	for i, g := range r.Gaps {
		out[i] = g.Item + ": " + strings.TrimSpace(g.Reason)
	}
	return out
}

// GapsFor returns the archive's gaps that matter to a tracker, as its
// registered destinations say (Kind.Gaps).
func GapsFor(gaps []schemas.GapRow, tracker string) []schemas.GapRow {
	matters := trackerGaps(tracker)
	var out []schemas.GapRow
	for _, g := range gaps {
		if matters(g.Item) {
			out = append(out, g)
		}
	}
	return out
}

// GapTrackers returns the trackers, sorted, whose registered destinations
// say that a gap item matters to them (for inspect and report).
func GapTrackers(item string) []string {
	var out []string
	for _, k := range Kinds() {
		if k.Gaps != nil && k.Gaps(item) && !slices.Contains(out, k.Tracker) {
			out = append(out, k.Tracker)
		}
	}
	slices.Sort(out)
	return out
}

// trackerGaps returns the Gaps of a tracker's destinations (those of the
// first kind that has one: kinds of one tracker share it).
func trackerGaps(tracker string) func(string) bool {
	for _, k := range Kinds() {
		if k.Tracker == tracker && k.Gaps != nil {
			return k.Gaps
		}
	}
	return func(string) bool { return false }
}

// GapsOther is the name under which a replay records the archive's gap
// items (a ClearML runtime property, a Comet other), comma-separated, so
// that capturing the replayed session again keeps them.
const GapsOther = schemas.MarkerGaps

// GapItems joins the gaps' items, in order, without repeats.
func GapItems(gaps []schemas.GapRow) string {
	seen := map[string]bool{}
	var out []string
	for _, g := range gaps {
		if !seen[g.Item] {
			seen[g.Item] = true
			out = append(out, g.Item)
		}
	}
	return strings.Join(out, ",")
}
