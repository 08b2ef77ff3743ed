package sync

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Run is an archive opened for replay: its verified header and tables. Blobs
// stay in the archive until Extract is called. A delta chain opens as one
// Run: its links' tables merged, its head link as Archive.
//
// The big tables, scalars and annotations, are not held for a complete
// archive: Tables.Scalars and Tables.Annotations stay nil and
// [Run.ScanScalars] and [Run.ScanAnnotations] read them again in row
// batches, so that a sync's memory does not grow with them. A chain's
// merged tables (and a Run made in memory) are held and scanned whole.
type Run struct {
	// Path is the archive's file name (a chain's base name).
	Path string
	// Archive is the opened archive (a chain's last link).
	Archive *archive.Archive
	// Tables are the archive's tables (a chain's merged): Info is the
	// run table's single row. Scalars and Annotations are nil when
	// streamed: read them with ScanScalars and ScanAnnotations.
	archive.Tables
	// Prior is what an earlier sync of the same chain to this destination
	// already sent (the first links merged), nil when nothing was or the
	// run is not a chain. Destinations send only what Run adds to it.
	Prior *Run

	chain *chain.Chain
	// streamed: Scalars and Annotations are read from Archive by each
	// scan, not held; stats summarise the scalars.
	streamed bool
	stats    scalarStats
}

// scalarStats is what one pass over the scalars table tells that the
// callers ask for often: O(metrics + epochs), not O(rows).
type scalarStats struct {
	maxEpoch int64
	metrics  []string
	// times is the "time" column (seconds elapsed) by epoch.
	times map[int64]float64
}

// Open opens and verifies the archive at path and loads its small tables;
// the scalars and annotations of a complete archive are streamed (see
// [Run]). A chain link (or a chain's base name) opens the whole chain,
// merged. The caller must Close the Run.
func Open(ctx context.Context, path string) (*Run, error) {
	o, err := chain.OpenTables(ctx, path, schemas.TableScalars, schemas.TableAnnotations)
	if err != nil {
		return nil, err
	}
	r := &Run{Path: o.Path, Archive: o.Links[len(o.Links)-1], Tables: *o.Tables, chain: o.Chain, streamed: o.Chain == nil}
	if r.streamed {
		r.stats.times = map[int64]float64{}
		seen := map[string]bool{}
		err := r.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
			for _, s := range rows {
				r.stats.maxEpoch = max(r.stats.maxEpoch, s.Epoch)
				if !seen[s.Metric] {
					seen[s.Metric] = true
					r.stats.metrics = append(r.stats.metrics, s.Metric)
				}
				if s.Metric == "time" {
					r.stats.times[s.Epoch] = s.Value
				}
			}
			return nil
		})
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return r, nil
}

// ScanScalars calls fn with successive batches of the scalars rows, in
// table order, checking ctx between batches. fn must not keep the slice
// (it is reused); rows it keeps are copies.
func (r *Run) ScanScalars(ctx context.Context, fn func(rows []schemas.ScalarRow) error) error {
	if !r.streamed {
		return scanHeld(ctx, r.Scalars, fn)
	}
	return archive.ScanTable(ctx, r.Archive, schemas.TableScalars, fn)
}

// EpochWindows cuts the epochs of the scalar rows keep accepts into
// ranges [first, last] of consecutive epochs holding at most maxRows of
// those rows each (an epoch with more makes a range alone), in ascending
// order, from one pass over the table. A plan reads a table that is not
// in epoch order one range at a time, holding at most a range's rows.
func (r *Run) EpochWindows(ctx context.Context, keep func(schemas.ScalarRow) bool, maxRows int) ([][2]int64, error) {
	counts := map[int64]int{}
	err := r.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
		for _, s := range rows {
			if keep(s) {
				counts[s.Epoch]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	epochs := make([]int64, 0, len(counts))
	for e := range counts {
		epochs = append(epochs, e)
	}
	slices.Sort(epochs)
	var windows [][2]int64
	n := 0
	for _, e := range epochs {
		if len(windows) == 0 || n+counts[e] > maxRows {
			windows = append(windows, [2]int64{e, e})
			n = 0
		}
		windows[len(windows)-1][1] = e
		n += counts[e]
	}
	return windows, nil
}

// ScanAnnotations calls fn with successive batches of the annotation rows,
// as ScanScalars does.
func (r *Run) ScanAnnotations(ctx context.Context, fn func(rows []schemas.AnnotationRow) error) error {
	if !r.streamed {
		return scanHeld(ctx, r.Annotations, fn)
	}
	return archive.ScanTable(ctx, r.Archive, schemas.TableAnnotations, fn)
}

// scanHeld hands rows held in memory to fn in batches, as a scan of the
// table would.
func scanHeld[T any](ctx context.Context, rows []T, fn func([]T) error) error {
	const batch = 4096
	for len(rows) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(batch, len(rows))
		if err := fn(rows[:n:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// Links returns the digests of a chain's links in order (nil for a
// complete archive).
func (r *Run) Links() []string {
	if r.chain == nil {
		return nil
	}
	return r.chain.Digests()
}

// Final reports whether the run ended: a complete archive of a run not
// marked running, or a chain whose final link arrived. Replays complete
// the remote run only when it is final.
func (r *Run) Final() bool {
	if r.chain != nil {
		return r.chain.Final()
	}
	return r.Info.Status != schemas.StatusRunning
}

// prefix returns the first n links of a chain merged, as a Run without
// archives (for Prior).
func (r *Run) prefix(ctx context.Context, n int) (*Run, error) {
	t, err := r.chain.Merged(ctx, n)
	if err != nil {
		return nil, err
	}
	p := &Run{Path: r.Path, Archive: r.chain.Links[n-1], Tables: *t}
	return p, nil
}

// Close releases the archive (every link of a chain).
func (r *Run) Close() error {
	if r.chain != nil {
		return r.chain.Close()
	}
	return r.Archive.Close()
}

// RunID returns the archive's run id.
func (r *Run) RunID() string { return r.Archive.Header.RunID }

// Digest returns the archive digest (sha256 hex of the manifest).
func (r *Run) Digest() string { return r.Archive.Digest }

// Name returns the run's name (args.yaml name, else the directory name).
func (r *Run) Name() string {
	if r.Info.Name != "" {
		return r.Info.Name
	}
	return r.Info.SourceName
}

// Epochs returns the number of epochs with results, the largest epoch of
// any scalar when the run row does not say.
func (r *Run) Epochs() int64 {
	if r.Info.EpochsCompleted > 0 {
		return r.Info.EpochsCompleted
	}
	if r.streamed {
		return r.stats.maxEpoch
	}
	var n int64
	for _, s := range r.Scalars {
		n = max(n, s.Epoch)
	}
	return n
}

// EpochTimes returns the "time" column of the scalars (seconds elapsed
// at the end of each epoch), by epoch.
func (r *Run) EpochTimes() map[int64]float64 {
	if r.streamed {
		return r.stats.times
	}
	times := map[int64]float64{}
	for _, s := range r.Scalars {
		if s.Metric == "time" {
			times[s.Epoch] = s.Value
		}
	}
	return times
}

// Asset returns the first asset with the role, if any.
func (r *Run) Asset(role string) (schemas.AssetRow, bool) {
	for _, a := range r.Assets {
		if a.Role == role && a.Blob != "" {
			return a, true
		}
	}
	return schemas.AssetRow{}, false
}

// ImagesByRole returns the stored images with one of the roles, sorted by
// file name (byte order, as Python's sorted(glob) orders them).
func (r *Run) ImagesByRole(roles ...string) []schemas.ImageRow {
	var out []schemas.ImageRow
	for _, im := range r.Images {
		if im.Blob == "" {
			continue
		}
		for _, role := range roles {
			if im.Role == role {
				out = append(out, im)
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FileName < out[j].FileName })
	return out
}

// Image returns the stored run-directory image with the file name.
func (r *Run) Image(fileName string) (schemas.ImageRow, bool) {
	for _, im := range r.Images {
		if im.FileName == fileName && im.Blob != "" && im.Role != schemas.RoleDatasetImage {
			return im, true
		}
	}
	return schemas.ImageRow{}, false
}

// MetricNames returns the scalar metric names in first-seen order.
func (r *Run) MetricNames() []string {
	if r.streamed {
		return r.stats.metrics
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range r.Scalars {
		if !seen[s.Metric] {
			seen[s.Metric] = true
			out = append(out, s.Metric)
		}
	}
	return out
}

// IsTrackerMetric reports whether a results.csv column is one the
// Ultralytics callbacks log: train/*, val/*, metrics/*, lr/* (not "epoch"
// or "time", and not YOLOv5's x/lr*).
func IsTrackerMetric(name string) bool {
	for _, p := range []string{"train/", "val/", "metrics/", "lr/"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// JSONFloat returns v, or 0 and false when v is NaN or infinite, which JSON
// cannot carry as a number.
func JSONFloat(v float64) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
