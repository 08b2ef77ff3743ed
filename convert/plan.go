package convert

import (
	"context"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// Evidence is what tells whether two training run directories are one run
// (schemas/FORMAT.md §7): the id Read derives for a directory and its
// results.csv rows, read without hashing any file.
type Evidence struct {
	// Source is the run directory.
	Source string
	// RunID is the id Read derives from its settings and first row.
	RunID string
	rows  []rowDigest // results.csv rows in file order
}

// Epochs returns the number of results.csv rows.
func (e *Evidence) Epochs() int { return len(e.rows) }

// ReadEvidence reads the settings and results.csv of a training run
// directory. It returns nil and no error for a source whose id needs its
// files or its session (a tracker session, a yolo val directory, a
// training run without a results.csv row yet): such ids change with
// every byte, so the same id means the same content. A malformed file is
// an error naming it, as Read reports it.
func ReadEvidence(src string) (*Evidence, error) {
	dir := src
	if real, err := resolveLink(src); err != nil {
		return nil, err
	} else if real != "" {
		dir = real
	}
	kind, err := Detect(dir)
	if err != nil {
		return nil, err
	}
	if kind != schemas.SourceUltralyticsTrain && kind != schemas.SourceYOLOv5Train {
		return nil, nil
	}
	d, err := openSrcDir(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if !d.isFile("results.csv") {
		return nil, nil
	}
	params, _, err := loadSettings(d)
	if err != nil {
		return nil, err
	}
	res, err := loadResults(d, false)
	if err != nil {
		return nil, err
	}
	return &Evidence{Source: src, RunID: trainRunID(kind, params, res.Columns, res.Rows[0]), rows: digestRows(res.Rows)}, nil
}

// ReadEvidences calls ReadEvidence for every source, workers at a time;
// the evidence of a source that has none, or whose files are malformed
// (its capture reports why), is nil.
func ReadEvidences(ctx context.Context, srcs []string, workers int) []*Evidence {
	evs := make([]*Evidence, len(srcs))
	var g errgroup.Group
	g.SetLimit(max(1, workers))
	for i := range srcs {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			evs[i], _ = ReadEvidence(srcs[i])
			return nil // a source without evidence is nil: its capture says why
		})
	}
	g.Wait()
	return evs
}

// Decision is what a capture of several sources does with one of them.
type Decision struct {
	// Derived is the id Read derives for the source.
	Derived string
	// RunID is the id to archive it under: Derived, or, for a run that
	// shares Derived with a different run of the batch, a forked id.
	RunID string
	// SameAs is set when the source is the same run as another source of
	// the batch, which is archived instead: a copy, or the run seen at an
	// earlier moment (its rows are the first rows of the other's).
	SameAs string
	// Like is set on a forked id: the source that keeps Derived.
	Like string
}

// Assign gives the run the id the decision chose for it, when the run
// still has the id the decision was made for (its directory did not
// change in between). It reports whether it did.
func (r *Run) Assign(d Decision) bool {
	if d.Derived == "" || r.Info.RunID != d.Derived {
		return false
	}
	r.Info.RunID = d.RunID
	return true
}

// Plan decides, for the training run directories of one capture, which are
// one run and which are different runs that share an id (schemas/FORMAT.md
// §7). Two directories are one run when the results.csv rows of one are
// the first rows of the other's (Ultralytics only appends): a copy, or the
// run seen earlier and later. Of each such group the directory with the
// most rows is archived and the others are the SameAs it. Different runs
// sharing an id (the same settings and first row, but later rows that
// differ) are each archived: one keeps the id, the others get forked
// ids. kept reports whether a source is already archived under an id (the
// ledger): its run keeps the shared id, and among copies it is the one
// archived. Evidence is ordered by Source for a deterministic choice.
func Plan(evs []*Evidence, kept func(src, runID string) bool) map[string]Decision {
	out := map[string]Decision{}
	groups := map[string][]*Evidence{}
	given := map[string]bool{}
	for _, e := range evs {
		// A source given twice (overlapping roots) is planned once.
		if e != nil && !given[e.Source] {
			given[e.Source] = true
			groups[e.RunID] = append(groups[e.RunID], e)
		}
	}
	for id, g := range groups {
		isKept := func(e *Evidence) bool { return kept != nil && kept(e.Source, id) }
		// The most complete first; among equals the archived one, then by
		// path: each joins the first run whose rows begin with its own.
		sort.SliceStable(g, func(i, j int) bool {
			a, b := g[i], g[j]
			if len(a.rows) != len(b.rows) {
				return len(a.rows) > len(b.rows)
			}
			if ka, kb := isKept(a), isKept(b); ka != kb {
				return ka
			}
			return a.Source < b.Source
		})
		type run struct {
			rep  *Evidence
			kept bool
		}
		var runs []*run
		for _, e := range g {
			var joined *run
			for _, r := range runs {
				if startsWith(r.rep.rows, e.rows) {
					joined = r
					break
				}
			}
			if joined == nil {
				runs = append(runs, &run{rep: e, kept: isKept(e)})
				out[e.Source] = Decision{Derived: id, RunID: id}
				continue
			}
			joined.kept = joined.kept || isKept(e)
			out[e.Source] = Decision{Derived: id, RunID: id, SameAs: joined.rep.Source}
		}
		if len(runs) == 1 {
			continue
		}
		// One run keeps the id: the one already archived under it, else
		// the first by path. The others are told apart by their first
		// rows no other run of the group shares.
		owner := runs[0]
		for _, r := range runs[1:] {
			if (r.kept && !owner.kept) || (r.kept == owner.kept && r.rep.Source < owner.rep.Source) {
				owner = r
			}
		}
		for _, r := range runs {
			if r == owner {
				continue
			}
			n := 0
			for _, o := range runs {
				if o != r {
					n = max(n, firstDiff(r.rep.rows, o.rep.rows)+1)
				}
			}
			fork := forkRunID(id, r.rep.rows[:n])
			for _, e := range g {
				if d := out[e.Source]; e == r.rep || d.SameAs == r.rep.Source {
					d.RunID, d.Like = fork, owner.rep.Source
					out[e.Source] = d
				}
			}
		}
	}
	return out
}

// startsWith reports whether rows begins with prefix.
func startsWith(rows, prefix []rowDigest) bool {
	if len(prefix) > len(rows) {
		return false
	}
	for i := range prefix {
		if rows[i] != prefix[i] {
			return false
		}
	}
	return true
}

// firstDiff returns the index of the first row where a and b differ; one
// of them is never the beginning of the other here.
func firstDiff(a, b []rowDigest) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
