package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/vision/imagesize"
)

// Run is everything read from one source, ready to be written as an
// archive by [Run.Write].
type Run struct {
	// Source is the captured path (with a link given resolved).
	Source string
	// Given is the path given when it was a symbolic link to Source, else
	// "".
	Given string
	// Tables are the archive's tables: Info is the run table's single
	// row, Params the settings in file order, Images and Assets the
	// stored files, Summary the run's single values, Gaps what the archive
	// lacks and why. Scalars and Annotations hold what a tracker session
	// recorded: a run directory's come from Results, predictions.json and
	// the dataset, and are computed as the archive is written (see
	// [Run.Snapshot]).
	archive.Tables
	// Results is the parsed results.csv, nil when the run has none.
	Results *Results
	// Warnings are problems that did not stop the capture.
	Warnings []string
	// Dataset is the resolved dataset, nil when it did not resolve.
	Dataset *Dataset

	opts        Options
	blobs       []blob
	valImages   []valImage
	predictions string  // predictions.json relative to dir, "" when absent
	dir         *srcDir // the run directory; nil for a session
	predStats   *PredictionStats
	annot       *annotator
	// first is results.csv's first data row in file order (the run's
	// identity, §7), nil when it has none.
	first   *ResultsRow
	cleanup func()
	// merged counts the sessions merged in by --session; sessionRows
	// holds the keys of the scalars they added.
	merged      int
	sessionRows map[string]bool
	sessionIDs  map[string]bool
}

// blob is a file to store, with its content sum.
type blob struct {
	sum  archive.FileSum
	path string
	// open opens a file of a run directory through its root; nil opens
	// path.
	open func() (io.ReadCloser, error)
}

// valImage is a validation image of the dataset.
type valImage struct {
	path, rel, key, mediaType string
	width, height             int
}

// MergedInto returns the run directory that [Read] captures src into,
// with src merged as a session: a run of a registered [Reader] (an
// MLflow run) logged from a run directory that is still where it says.
// It returns "" for any other source. A recursive capture that finds both captures src alone, so that
// the run gets one archive.
func MergedInto(src string) string {
	kind, err := Detect(src)
	if err != nil {
		return ""
	}
	return loggedFrom(kind, src)
}

// Read reads a run from src. It fails, with an error naming the file,
// when a file the archive depends on is unreadable or malformed.
func Read(ctx context.Context, src string, opts Options) (*Run, error) {
	opts = opts.withDefaults()
	given := src
	real, err := resolveLink(src)
	if err != nil {
		return nil, err
	}
	if real != "" {
		src = real
	}
	kind, err := Detect(src)
	if err != nil {
		return nil, err
	}
	if dir := loggedFrom(kind, src); dir != "" {
		// The run directory the session was logged from: captured with
		// the run merged in, as --session merges a session.
		opts.Sessions = append([]string{src}, opts.Sessions...)
		return Read(ctx, dir, opts)
	}
	if isSession(kind) {
		r, err := readSession(ctx, src, kind, opts)
		if r != nil && real != "" {
			r.Given = given
		}
		if err != nil || len(opts.Sessions) == 0 {
			return r, err
		}
		// Later sessions of the same run (a resume that started a new
		// offline session): merged into this one, which keeps its id.
		r.merged, r.sessionRows = 1, map[string]bool{}
		for _, sc := range r.Scalars {
			r.sessionRows[scalarKey(sc)] = true
		}
		for _, s := range opts.Sessions {
			if err := r.enrich(ctx, s); err != nil {
				r.Close()
				return nil, err
			}
		}
		return r, nil
	}
	r := &Run{Source: src, opts: opts}
	if real != "" {
		r.Given = given
	}
	r.Info.SourceKind = kind
	r.Info.SourceName = filepath.Base(filepath.Clean(src))
	if r.dir, err = openSrcDir(src); err != nil {
		return nil, err
	}
	files, skipped, err := listFiles(r.dir)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if err := r.readDir(ctx, kind, files, skipped); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// readDir reads a run directory whose files are listed.
func (r *Run) readDir(ctx context.Context, kind string, files []File, skipped []string) error {
	opts := r.opts
	if len(skipped) > 0 {
		r.gap(schemas.GapSkippedFiles, "not regular files or unreadable: "+strings.Join(skipped, "; "), "copy the files the links point to into the run directory")
	}
	args, err := r.readSettings(files)
	if err != nil {
		return err
	}
	if err := r.readResults(files); err != nil {
		return err
	}
	vr := r.describe(args, files)
	digests, err := r.readFiles(ctx, files)
	if err != nil {
		return err
	}
	r.readCheckpoint(files, vr)
	r.resolveDataset(args)
	if err := r.readPredictions(ctx, vr); err != nil {
		return err
	}
	r.summarize(vr)
	r.setEarlyStop(args)
	r.setVersion(vr)
	r.Info.RunID = runID(kind, r.Params, r.Results, r.first, digests)
	r.setTimes(files)
	for _, s := range opts.Sessions {
		if err := r.enrich(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// readSettings parses args.yaml, or YOLOv5's opt.yaml and hyp.yaml.
func (r *Run) readSettings(files []File) (*Params, error) {
	rows, args, err := loadSettings(r.dir)
	if err != nil {
		return nil, err
	}
	r.Params = append(r.Params, rows...)
	if args == nil && r.Info.SourceKind != schemas.SourceUltralyticsVal {
		if _, err := r.dir.lstat("args.yaml"); err == nil || !errors.Is(err, fs.ErrNotExist) {
			r.gap(schemas.GapSettings, "args.yaml is not a regular file of the run directory (a symbolic link or a FIFO): not read", "copy the file itself into the run directory")
		} else {
			r.gap(schemas.GapSettings, "the run directory has no args.yaml", "")
		}
	}
	if r.Info.SourceKind == schemas.SourceUltralyticsVal {
		r.gap(schemas.GapSettings, "`yolo val` writes no args.yaml: its settings were only printed to the console", "")
	}
	return args, nil
}

// loadSettings parses the settings files of a run directory: args.yaml,
// or YOLOv5's opt.yaml and hyp.yaml. It returns their rows in file order
// and the first file found, nil when there is none.
func loadSettings(d *srcDir) ([]schemas.ParamRow, *Params, error) {
	var rows []schemas.ParamRow
	var args *Params
	for _, name := range []string{"args.yaml", "opt.yaml", "hyp.yaml"} {
		p := d.path(name)
		if !d.isFile(name) {
			continue // absent, or a link or FIFO: a gap of listFiles
		}
		f, err := d.open(name)
		if err != nil {
			return nil, nil, err
		}
		section := strings.TrimSuffix(name, ".yaml")
		ps, err := ParseParams(f, p, section)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, ps.Rows...)
		if args == nil {
			args = ps
		}
	}
	return rows, args, nil
}

// readResults parses results.csv when there is one.
func (r *Run) readResults(files []File) error {
	p := r.dir.path("results.csv")
	if !r.dir.isFile("results.csv") {
		if _, err := r.dir.lstat("results.csv"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.gap(schemas.GapScalars, fmt.Sprintf("results.csv is not read: %v", underlying(err)), "copy the file the link points to into the run directory")
		} else if err == nil {
			r.gap(schemas.GapScalars, "results.csv is not read: "+errNotRegular.Error(), "copy the file into the run directory")
		} else if r.Info.SourceKind != schemas.SourceUltralyticsVal {
			r.gap(schemas.GapScalars, "the run directory has no results.csv (the run stopped before its first epoch ended?)", "")
		}
		return nil
	}
	res, err := loadResults(r.dir, r.opts.Growing)
	if err != nil || res == nil {
		return err
	}
	r.Results = res
	first := res.Rows[0]
	r.first = &first
	r.Info.ResultsFormat = res.Dialect
	r.Info.CSVEpochBase = int32(res.EpochBase)
	epochs := map[int64]bool{}
	for _, row := range res.Rows {
		epochs[row.Epoch] = true
	}
	r.Info.EpochsCompleted = int64(len(epochs))
	if len(epochs) != len(res.Rows) {
		n, lines := res.KeepLastPerEpoch()
		msg := fmt.Sprintf("results.csv has %d rows for %d epochs: the run was resumed. Each epoch keeps its last row (the resumed run's); the %d earlier rows (lines %s) are only in the stored results.csv", n+len(res.Rows), len(epochs), n, lines)
		r.warn(p + ": " + msg)
		r.gap(schemas.GapResumedRows, msg, "")
	}
	return nil
}

// loadResults parses the results.csv at p, rows in file order. growing
// reads a file Ultralytics is still writing: a last line without its
// newline is left for the next look, and a file with no complete row yet
// is no results at all (nil, nil).
func loadResults(d *srcDir, growing bool) (*Results, error) {
	p := d.path("results.csv")
	data, err := d.readFile("results.csv")
	if err != nil {
		return nil, err
	}
	if growing {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
		if lines := bytes.Count(data, []byte{'\n'}); lines < 2 {
			return nil, nil
		}
	}
	return ParseResults(bytes.NewReader(data), p)
}

// readFiles hashes every file to store and reads image sizes, in
// parallel. A broken image is an error naming it.
func (r *Run) readFiles(ctx context.Context, files []File) ([]fileDigest, error) {
	results := make([]fileRead, len(files))
	// Every file is read, and each error kept with its file: the first
	// in file order is reported, whichever failed first.
	var g errgroup.Group
	g.SetLimit(max(1, r.opts.Workers))
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			r.readFile(ctx, files[i], &results[i])
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var digests []fileDigest
	var skippedWeights []string
	for i, f := range files {
		res := results[i]
		if res.err != nil {
			return nil, res.err
		}
		digests = append(digests, fileDigest{rel: f.Rel, digest: res.sum.SHA256})
		if f.Image {
			r.Images = append(r.Images, schemas.ImageRow{
				Blob: res.sum.SHA256, Role: f.Role, FileName: f.Rel, Name: stem(f.Rel), Step: f.Step,
				Width: int32(res.w), Height: int32(res.h), MediaType: res.mt, Size: res.sum.Size, MTime: res.mtime,
			})
			r.blobs = append(r.blobs, blob{sum: res.sum, path: f.Path, open: r.dir.opener(f.Rel)})
			continue
		}
		weights := f.Role == schemas.RoleWeightsBest || f.Role == schemas.RoleWeightsLast
		if (weights && r.opts.NoWeights) || (f.Role == schemas.RoleWeightsEpoch && !r.opts.AllWeights) {
			skippedWeights = append(skippedWeights, fmt.Sprintf("%s (%d bytes)", f.Rel, res.sum.Size))
			continue
		}
		r.Assets = append(r.Assets, schemas.AssetRow{Blob: res.sum.SHA256, Role: f.Role, FileName: f.Rel, Size: res.sum.Size, MediaType: mediaType(f.Rel), MTime: res.mtime})
		r.blobs = append(r.blobs, blob{sum: res.sum, path: f.Path, open: r.dir.opener(f.Rel)})
		if f.Role == schemas.RolePredictionsJSON {
			r.predictions = f.Rel
		}
	}
	if len(skippedWeights) > 0 {
		hint := "capture again without --no-weights"
		if !r.opts.NoWeights {
			hint = "capture again with --all-weights to keep periodic checkpoints"
		}
		r.gap(schemas.GapWeights, fmt.Sprintf("left out by the capture options: %s", strings.Join(skippedWeights, ", ")), hint)
	}
	if r.Info.Mode == "train" && !HasAssetRole(r.Assets, schemas.RoleWeightsBest) && !r.opts.NoWeights {
		r.gap(schemas.GapModel, "weights/best.pt is not in the run directory: no model can be registered", "copy weights/ from the training machine")
	}
	return digests, nil
}

// fileRead is what reading one file of a run directory found.
type fileRead struct {
	sum  archive.FileSum
	w, h int
	mt   string
	// mtime is the file's modification time, UTC, read once it is hashed.
	mtime *time.Time
	err   error
}

// readFile hashes the file f and, for an image, reads its size into res.
func (r *Run) readFile(ctx context.Context, f File, res *fileRead) {
	fh, err := r.dir.open(f.Rel)
	if err != nil {
		res.err = err
		return
	}
	defer fh.Close()
	if f.Image {
		res.w, res.h, res.mt, res.err = imagesize.Read(fh)
		if res.err != nil {
			res.err = fmt.Errorf("%s: %w (remove the damaged image, or copy it again from the training machine)", f.Path, res.err)
			return
		}
		if _, err := fh.Seek(0, io.SeekStart); err != nil {
			res.err = err
			return
		}
	}
	res.sum, res.err = archive.HashReader(ctx, fh, f.Path)
	if res.err != nil {
		return
	}
	st, err := fh.Stat()
	if err != nil {
		res.err = err
		return
	}
	m := st.ModTime().UTC()
	res.mtime = &m
}

// HasAssetRole reports whether an asset of role is stored.
func HasAssetRole(assets []schemas.AssetRow, role string) bool {
	for _, a := range assets {
		if a.Role == role {
			return true
		}
	}
	return false
}

// MillisTime converts milliseconds since the epoch, as the trackers
// record times, to UTC; nil for none (zero or less).
func MillisTime(ms int64) *time.Time {
	if ms <= 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

// summarize finds the best epoch and the approximated final values.
func (r *Run) summarize(vr *versionRange) {
	if r.Info.Mode == "train" && r.Info.SourceKind != schemas.SourceYOLOv5Train {
		r.trainingGaps()
	}
	res := r.Results
	if res == nil {
		return
	}
	if r.Info.SourceKind != schemas.SourceYOLOv5Train && !res.HasColumn("time") {
		r.gap(schemas.GapEpochTime, "results.csv has no time column before Ultralytics 8.3.9: ClearML's Epoch Time cannot be rebuilt", "")
	}
	fit, formula, doubtful := fitnessFor(res, vr, r.Info.SourceKind == schemas.SourceYOLOv5Train)
	best, fitness, ok := bestRow(res, fit)
	if !ok {
		return
	}
	epoch := res.Rows[best].Epoch
	r.Info.BestEpoch = &epoch
	r.Summary = summaryRows(res, best, fitness, formula)
	if doubtful {
		r.warn("the fitness formula changed in Ultralytics 8.3.198 and the run's version range spans it: " + formula + " was used")
	}
}

// trainImageCount applies the fraction setting as Ultralytics does:
// im_files[:round(len(im_files) * fraction)].
func trainImageCount(n int, fraction float64) int64 {
	if fraction <= 0 || fraction >= 1 {
		return int64(n)
	}
	return int64(math.RoundToEven(float64(n) * fraction))
}
