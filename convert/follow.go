package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// FollowOptions configure a [Follower].
type FollowOptions struct {
	// Capture are the capture options; Growing is always set.
	Capture Options
	// Settle is how long a file must have been left alone before it is
	// stored (default 2s): Ultralytics writes images and weights in
	// place, and a file still being written is taken at the next look.
	Settle time.Duration
	// Quiet is how long nothing in the run directory may change before a
	// run with plots off (no results.png to mark the end) counts as
	// ended (default 2m): its last epoch's row comes before the final
	// validation and the weights' last rewrite.
	Quiet time.Duration
	// Now returns the current time (tests); default time.Now.
	Now func() time.Time
}

// Follower extends the delta chain of a run directory Ultralytics is
// still writing, one link per look that finds something new, until the
// final link (FORMAT.md §8). Its only state is the chain on disk, so a
// follower killed at any point and started again continues the chain
// without losing or repeating anything.
type Follower struct {
	src, base string
	o         FollowOptions
	w         *chain.Writer // the lock, the next number, the last link

	runID  string
	merged *archive.Tables // the chain's tables so far
	stored map[string]bool // blobs the chain holds
}

// Link describes one link a Follower wrote.
type Link struct {
	// Path is the link's file; Seq its number.
	Path string `json:"path"`
	Seq  int    `json:"seq"`
	// Digest is its archive digest.
	Digest string `json:"digest"`
	// Rows counts its keyed rows; Blobs its new files.
	Rows  int `json:"rows"`
	Blobs int `json:"blobs"`
	// Epochs is the run's epochs with results so far.
	Epochs int64 `json:"epochs"`
	// Final is set on the last link.
	Final bool `json:"final"`
}

// ErrNotReady is wrapped by [Follower.Step] when the run directory cannot
// be captured yet (no args.yaml or results.csv row, a file mid-write); the
// next look retries.
var ErrNotReady = errors.New("not ready")

// NewFollower opens the chain base (run.tar.zst names run.000.tar.zst,
// run.001.tar.zst, …) of the run directory src, reading the links already
// written. It takes a lock so that one follower at a time writes the
// chain; Close releases it.
func NewFollower(ctx context.Context, src, base string, o FollowOptions) (*Follower, error) {
	if o.Settle <= 0 {
		o.Settle = 2 * time.Second
	}
	if o.Quiet <= 0 {
		o.Quiet = 2 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Capture.Growing = true
	if real, err := resolveLink(src); err != nil {
		return nil, err
	} else if real != "" {
		src = real // looked at as the directory itself, every time
	}
	f := &Follower{src: src, base: base, o: o, stored: map[string]bool{}}
	w, c, err := chain.NewWriter(ctx, base)
	if err != nil {
		return nil, err
	}
	f.w = w
	if c == nil {
		return f, nil
	}
	defer c.Close()
	if was := c.Links[0].Header.Chain.Options; !c.Final() && was != f.optionsKey() {
		f.Close()
		return nil, fmt.Errorf("%s: the chain was captured with options %q, not %q: follow with the same options, or into a new chain", base, was, f.optionsKey())
	}
	merged, err := c.Merged(ctx, 0)
	if err != nil {
		f.Close()
		return nil, err
	}
	f.runID, f.merged = c.RunID(), merged
	for _, a := range c.Links {
		for _, e := range a.Manifest.Entries {
			if d, ok := strings.CutPrefix(e.Path, "blobs/"); ok {
				f.stored[d] = true
			}
		}
	}
	return f, nil
}

// optionsKey names the capture options that decide a chain's content.
func (f *Follower) optionsKey() string {
	o := f.o.Capture.withDefaults()
	data := o.Data
	if data != "" {
		if abs, err := filepath.Abs(data); err == nil {
			data = abs
		}
	}
	key := fmt.Sprintf("no-weights=%v all-weights=%v data=%s dataset-images=%d skip-bad-masks=%v", o.NoWeights, o.AllWeights, data, o.DatasetImages, o.SkipBadMasks)
	if o.NoPolygons { // only when set: chains begun before the option keep their key
		key += " no-polygons=true"
	}
	return key
}

// Close releases the chain's lock.
func (f *Follower) Close() error { return f.w.Close() }

// Final reports whether the chain ended.
func (f *Follower) Final() bool { return f.w.Final() }

// Links returns the number of links written so far.
func (f *Follower) Links() int { return f.w.Links() }

// Step looks at the run directory once and writes the next link when it
// finds anything new, the final link when training ended. It returns nil
// when there was nothing to write, an error wrapping ErrNotReady when the
// directory cannot be read yet.
func (f *Follower) Step(ctx context.Context) (*Link, error) {
	if f.w.Final() {
		return nil, nil
	}
	if !fileExists(filepath.Join(f.src, "args.yaml")) && !fileExists(filepath.Join(f.src, "opt.yaml")) {
		// The run id comes from the settings: wait for them.
		return nil, fmt.Errorf("%s: %w: no args.yaml yet", f.src, ErrNotReady)
	}
	start := f.o.Now()
	// Weights change every epoch and only the final link stores them:
	// until training looks ended, they are not even hashed.
	light := f.o.Capture
	light.NoWeights = true
	r, err := Read(ctx, f.src, light)
	if err == nil && !f.o.Capture.NoWeights && r.ended() {
		r.Close()
		r, err = Read(ctx, f.src, f.o.Capture)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	defer r.Close()
	if err := r.identified(); err != nil {
		return nil, err
	}
	if f.runID != "" && r.Info.RunID != f.runID {
		return nil, fmt.Errorf("%s: holds run %s, but the chain %s holds run %s (another run, or a chain started by a yoloarchive that derived ids otherwise): capture into a new chain", f.src, r.Info.RunID, f.base, f.runID)
	}
	now, err := r.Snapshot(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	if f.merged != nil && now.Info.EpochsCompleted < f.merged.Info.EpochsCompleted {
		return nil, fmt.Errorf("%s: %w: results.csv has %d epochs, fewer than the %d already captured (being rewritten?)",
			f.src, ErrNotReady, now.Info.EpochsCompleted, f.merged.Info.EpochsCompleted)
	}
	unsettled := f.changedWithin(start, f.o.Settle)
	final := len(unsettled) == 0 && r.ended() && (f.o.Capture.NoWeights || hasRole(r.Assets, schemas.RoleWeightsBest))
	if final && !r.plots() && len(f.changedWithin(start, f.o.Quiet)) > 0 {
		final = false // no results.png: wait until the directory is quiet
	}
	if !final {
		now.Info.Status = schemas.StatusRunning
		// The light read's "weights left out" gap (its sizes change
		// every epoch) is not true of the chain: the final link stores
		// them.
		now.Gaps = keep(now.Gaps, func(g *schemas.GapRow) bool { return g.Item != "weights" || f.o.Capture.NoWeights })
		now.Images = keep(now.Images, func(im *schemas.ImageRow) bool {
			return im.Role == schemas.RoleDatasetImage || !unsettled[im.FileName]
		})
		// Weights change every epoch: only the final link stores them.
		now.Assets = keep(now.Assets, func(a *schemas.AssetRow) bool {
			return !unsettled[a.FileName] && a.Role != schemas.RoleWeightsBest && a.Role != schemas.RoleWeightsLast && a.Role != schemas.RoleWeightsEpoch
		})
	}
	have := f.merged
	if have == nil {
		have = &archive.Tables{}
	}
	delta := chain.Diff(have, now)
	if !final && !chain.Changes(have, delta) {
		return nil, nil
	}

	var blobs []blob
	want := delta.Digests()
	for _, b := range r.blobs {
		if want[b.sum.SHA256] && !f.stored[b.sum.SHA256] {
			blobs = append(blobs, b)
			delete(want, b.sum.SHA256)
		}
	}
	for d := range want {
		if !f.stored[d] {
			return nil, fmt.Errorf("%s: %w: file %s is listed but was not read", f.src, ErrNotReady, d)
		}
	}
	seq := f.w.Links()
	path, digest, err := f.w.Append(final, f.optionsKey(), func(path string, link *schemas.ChainLink) (string, error) {
		h := schemas.Header{RunID: r.Info.RunID, SourceKind: r.Info.SourceKind, Writer: f.o.Capture.withDefaults().Writer, Tables: schemas.Tables, Chain: link}
		return writeTables(ctx, path, h, delta, blobs, f.o.Capture.withDefaults().Workers)
	})
	if err != nil {
		if errors.Is(err, archive.ErrChecksum) {
			// A file changed while it was stored: take it next time.
			return nil, fmt.Errorf("%w: %w", ErrNotReady, err)
		}
		return nil, err
	}
	if f.merged == nil {
		f.merged = &archive.Tables{}
	}
	chain.Apply(f.merged, delta)
	for _, b := range blobs {
		f.stored[b.sum.SHA256] = true
	}
	f.runID = r.Info.RunID
	return &Link{Path: path, Seq: seq, Digest: digest, Rows: delta.Rows(), Blobs: len(blobs), Epochs: now.Info.EpochsCompleted, Final: final}, nil
}

// changedWithin returns the run directory's files (by relative path)
// changed within d of the look's start, or after it.
func (f *Follower) changedWithin(start time.Time, window time.Duration) map[string]bool {
	out := map[string]bool{}
	_ = filepath.WalkDir(f.src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if info.ModTime().After(start.Add(-window)) {
			rel, _ := filepath.Rel(f.src, p)
			out[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	return out
}

// Follow runs a Follower until the final link is written or ctx is
// cancelled, looking every `every`. report is called for every link and
// for every look that could not read the directory.
func Follow(ctx context.Context, f *Follower, every time.Duration, report func(*Link, error)) error {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for !f.w.Final() {
		link, err := f.Step(ctx)
		if err != nil && !errors.Is(err, ErrNotReady) {
			return err
		}
		if (link != nil || err != nil) && report != nil {
			report(link, err)
		}
		if f.w.Final() {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// ended reports whether training ended: the run finished and the file
// Ultralytics writes last is in place (results.png, unless plots are
// off). The caller checks that the weights are there.
func (r *Run) ended() bool {
	if r.Info.Status != schemas.StatusFinished {
		return false
	}
	return !r.plots() || fileExists(filepath.Join(r.Source, "results.png"))
}

// plots reports whether the run plots (args plots, true by default).
func (r *Run) plots() bool {
	for _, p := range r.Params {
		if p.Section == "args" && p.Key == "plots" && p.Bool != nil {
			return *p.Bool
		}
	}
	return true
}

func hasRole(assets []schemas.AssetRow, role string) bool {
	for _, a := range assets {
		if a.Role == role && a.Blob != "" {
			return true
		}
	}
	return false
}

func keep[T any](rows []T, ok func(*T) bool) []T {
	var out []T
	for i := range rows {
		if ok(&rows[i]) {
			out = append(out, rows[i])
		}
	}
	return out
}

// Compact writes the chain base (or the chain of a link file) as one
// complete archive at dst, atomically: the links' tables merged and every
// file they reference. A chain without its final link compacts to a run
// whose status is still "running". It returns the archive's digest.
func Compact(ctx context.Context, base, dst string, o Options) (string, error) {
	o = o.withDefaults()
	c, err := chain.Open(ctx, base)
	if err != nil {
		return "", err
	}
	defer c.Close()
	t, err := c.Merged(ctx, 0)
	if err != nil {
		return "", err
	}
	tmp, err := scratch.Mkdir(filepath.Dir(dst), "yoloarchive-compact")
	if err != nil {
		return "", err
	}
	defer scratch.Remove(tmp)
	want := t.Digests()
	var blobs []blob
	for _, a := range c.Links {
		if !holdsWanted(a, want) {
			continue
		}
		err := a.Blobs(ctx, func(d string) bool { return want[d] }, func(e *archive.Entry) error {
			p := filepath.Join(tmp, e.Key)
			out, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, e)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			sum, err := archive.HashFile(p)
			if err != nil {
				return err
			}
			blobs = append(blobs, blob{sum: sum, path: p})
			delete(want, e.Key)
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("%s: %w", a.Path, err)
		}
	}
	for d := range want {
		return "", fmt.Errorf("%s: %w: blob %s is referenced but no link stores it", c.Base, archive.ErrBadManifest, d)
	}
	h := schemas.Header{RunID: c.RunID(), SourceKind: c.Links[0].Header.SourceKind, Writer: o.Writer, Tables: schemas.Tables}
	return writeTables(ctx, dst, h, t, blobs, o.Workers)
}

// Identify returns the name and run id of a run directory that may still
// be training; the error wraps ErrNotReady until its settings and the
// first results.csv row are written and it can be read.
func Identify(ctx context.Context, src string, o Options) (name, runID string, err error) {
	if !fileExists(filepath.Join(src, "args.yaml")) && !fileExists(filepath.Join(src, "opt.yaml")) {
		if _, err := os.Stat(src); err != nil {
			return "", "", err
		}
		return "", "", fmt.Errorf("%s: %w: no args.yaml yet", src, ErrNotReady)
	}
	o.Growing = true
	r, err := Read(ctx, src, o)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	defer r.Close()
	if err := r.identified(); err != nil {
		return "", "", err
	}
	name = r.Info.Name
	if name == "" {
		name = r.Info.SourceName
	}
	return name, r.Info.RunID, nil
}

// identified returns an error wrapping ErrNotReady while a training run
// has no results.csv row: its id comes from the first one (FORMAT.md §7),
// and a run that has none yet would get an id that changes.
func (r *Run) identified() error {
	if r.first == nil && r.Info.SourceKind != schemas.SourceUltralyticsVal {
		return fmt.Errorf("%s: %w: no results.csv row yet (the run id comes from the first epoch's row)", r.Source, ErrNotReady)
	}
	return nil
}

// holdsWanted reports whether a stores one of the wanted blobs.
func holdsWanted(a *archive.Archive, want map[string]bool) bool {
	for _, e := range a.Manifest.Entries {
		if d, ok := strings.CutPrefix(e.Path, "blobs/"); ok && want[d] {
			return true
		}
	}
	return false
}
