package convert

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Run is everything read from one source, ready to be written as an
// archive by [Run.Write].
type Run struct {
	// Source is the captured path.
	Source string
	// Row is the run table's single row.
	Row schemas.RunRow
	// Params are the settings, in file order.
	Params []schemas.ParamRow
	// Results is the parsed results.csv, nil when the run has none.
	Results *Results
	// Images and Assets describe the stored files.
	Images []schemas.ImageRow
	Assets []schemas.AssetRow
	// Summary holds the run's single values.
	Summary []schemas.SummaryRow
	// Gaps lists what the archive lacks, and why.
	Gaps []schemas.GapRow
	// Warnings are problems that did not stop the capture.
	Warnings []string
	// Dataset is the resolved dataset, nil when it did not resolve.
	Dataset *Dataset

	opts        Options
	blobs       []blob
	valImages   []valImage
	predictions string // path of predictions.json, "" when absent
	predStats   *PredictionStats
	annot       *annotator
}

// blob is a file to store, with its content sum.
type blob struct {
	sum  archive.FileSum
	path string
}

// valImage is a validation image of the dataset.
type valImage struct {
	path, rel, key, mediaType string
	width, height             int
}

// Read reads a run from src. It fails, with an error naming the file,
// when a file the archive depends on is unreadable or malformed.
func Read(ctx context.Context, src string, opts Options) (*Run, error) {
	opts = opts.withDefaults()
	kind, err := Detect(src)
	if err != nil {
		return nil, err
	}
	r := &Run{Source: src, opts: opts}
	r.Row.SourceKind = kind
	r.Row.SourceName = filepath.Base(filepath.Clean(src))
	files, skipped, err := listFiles(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if len(skipped) > 0 {
		r.gap("skipped_files", "not regular files or unreadable: "+strings.Join(skipped, "; "), "copy the files the links point to into the run directory", nil)
	}
	args, err := r.readSettings(files)
	if err != nil {
		return nil, err
	}
	if err := r.readResults(files); err != nil {
		return nil, err
	}
	vr := r.describe(args, files)
	digests, err := r.readFiles(ctx, files)
	if err != nil {
		return nil, err
	}
	r.readCheckpoint(files, vr)
	r.resolveDataset(args)
	if err := r.readPredictions(ctx, files, vr); err != nil {
		return nil, err
	}
	r.summarize(vr)
	r.setEarlyStop(args)
	r.setVersion(vr)
	r.Row.RunID = runID(kind, r.Params, digests)
	r.setTimes(files)
	return r, nil
}

// readSettings parses args.yaml, or YOLOv5's opt.yaml and hyp.yaml.
func (r *Run) readSettings(files []File) (*Params, error) {
	var args *Params
	for _, name := range []string{"args.yaml", "opt.yaml", "hyp.yaml"} {
		p := filepath.Join(r.Source, name)
		if !fileExists(p) {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		section := strings.TrimSuffix(name, ".yaml")
		ps, err := ParseParams(f, p, section)
		f.Close()
		if err != nil {
			return nil, err
		}
		r.Params = append(r.Params, ps.Rows...)
		if args == nil {
			args = ps
		}
	}
	if args == nil && r.Row.SourceKind != schemas.SourceUltralyticsVal {
		r.gap("settings", "the run directory has no args.yaml", "", bothTrackers)
	}
	if r.Row.SourceKind == schemas.SourceUltralyticsVal {
		r.gap("settings", "`yolo val` writes no args.yaml: its settings were only printed to the console", "", bothTrackers)
	}
	return args, nil
}

// readResults parses results.csv when there is one.
func (r *Run) readResults(files []File) error {
	p := filepath.Join(r.Source, "results.csv")
	if !fileExists(p) {
		if r.Row.SourceKind != schemas.SourceUltralyticsVal {
			r.gap("scalars", "the run directory has no results.csv (the run stopped before its first epoch ended?)", "", bothTrackers)
		}
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := ParseResults(f, p)
	if err != nil {
		return err
	}
	r.Results = res
	r.Row.ResultsFormat = res.Dialect
	r.Row.CSVEpochBase = int32(res.EpochBase)
	epochs := map[int64]bool{}
	for _, row := range res.Rows {
		epochs[row.Epoch] = true
	}
	r.Row.EpochsCompleted = int64(len(epochs))
	if len(epochs) != len(res.Rows) {
		r.warn(fmt.Sprintf("%s: %d rows for %d epochs: the run was resumed; all rows are kept", p, len(res.Rows), len(epochs)))
	}
	return nil
}

// describe fills the run row from the settings, the results and the file
// names, and returns the version range those facts give.
func (r *Run) describe(args *Params, files []File) *versionRange {
	row := &r.Row
	vr := newVersionRange()
	yolov5 := row.SourceKind == schemas.SourceYOLOv5Train
	row.Mode = "train"
	if row.SourceKind == schemas.SourceUltralyticsVal {
		row.Mode = "val"
	}
	if args != nil {
		row.Task = args.String("task")
		row.Project = args.String("project")
		row.Name = args.String("name")
		row.SaveDir = args.String("save_dir")
		row.Dataset = args.String("data")
		if m := args.String("mode"); m != "" {
			row.Mode = m
		}
		if n, ok := args.Int("epochs"); ok {
			row.EpochsPlanned = &n
		}
		if b, ok := args.Int("batch"); ok && b > 0 {
			row.Batch = &b
		} else if b, ok := args.Int("batch_size"); ok && b > 0 { // YOLOv5 opt.yaml
			row.Batch = &b
		}
		if !yolov5 {
			vr.fromArgs(args.Keys())
		}
	}
	if row.Name == "" {
		row.Name = row.SourceName
	}
	if row.Task == "" {
		row.Task = r.inferTask(files)
	}
	if yolov5 {
		vr.evidence = append(vr.evidence, "YOLOv5 run (opt.yaml/hyp.yaml or YOLOv5 results.csv columns), not an Ultralytics 8.x release")
	}
	if res := r.Results; res != nil && !yolov5 {
		switch res.Dialect {
		case DialectPlain:
			vr.atLeast(version{8, 3, 9}, "results.csv has plain headers and a time column")
		case DialectPadded:
			vr.atMost(version{8, 3, 8}, "results.csv has padded headers")
			if res.EpochBase == 0 {
				vr.atMost(version{8, 0, 161}, "results.csv epochs start at 0")
			} else {
				vr.atLeast(version{8, 0, 162}, "results.csv epochs start at 1")
			}
		}
		for _, c := range res.Columns {
			if c == "lr/pg3" || strings.HasSuffix(c, "/sem_loss") || strings.HasSuffix(c, "/angle_loss") || strings.HasSuffix(c, "/rle_loss") {
				vr.atLeast(version{8, 4, 0}, "results.csv has "+c)
				break
			}
		}
	}
	if !yolov5 {
		r.versionFromFiles(vr, files)
	}
	r.setStatus(files)
	return vr
}

// versionFromFiles dates a run by the plot files it has.
func (r *Run) versionFromFiles(vr *versionRange, files []File) {
	has := map[string]bool{}
	for _, f := range files {
		has[f.Rel] = true
	}
	detectLike := r.Row.Task == "detect" || r.Row.Task == "obb"
	switch {
	case detectLike && has["BoxPR_curve.png"]:
		vr.atLeast(version{8, 3, 162}, "detect curves are named Box*_curve.png")
	case detectLike && has["PR_curve.png"]:
		vr.atMost(version{8, 3, 161}, "detect curves are named *_curve.png without a Box prefix")
	}
	if has["labels_correlogram.jpg"] {
		vr.atMost(version{8, 3, 186}, "labels_correlogram.jpg exists")
	}
	if has["confusion_matrix_normalized.png"] {
		vr.atLeast(version{8, 0, 94}, "confusion_matrix_normalized.png exists")
	} else if has["confusion_matrix.png"] && has["results.png"] {
		vr.atMost(version{8, 0, 93}, "confusion_matrix.png exists without confusion_matrix_normalized.png")
	}
}

// inferTask guesses the task of a run whose settings do not say it.
func (r *Run) inferTask(files []File) string {
	if res := r.Results; res != nil {
		switch {
		case res.HasColumn("train/seg_loss"):
			return "segment"
		case res.HasColumn("train/pose_loss"):
			return "pose"
		case res.HasColumn("metrics/accuracy_top1"):
			return "classify"
		case res.HasColumn("train/angle_loss"):
			return "obb"
		}
	}
	for _, f := range files {
		switch {
		case strings.HasPrefix(f.Rel, "Mask") && f.Role == schemas.RoleCurve:
			return "segment"
		case strings.HasPrefix(f.Rel, "Pose") && f.Role == schemas.RoleCurve:
			return "pose"
		}
	}
	if p := filepath.ToSlash(r.Source); strings.Contains(p, "/obb/") {
		return "obb"
	}
	return "detect"
}

// setStatus decides whether the run finished.
func (r *Run) setStatus(files []File) {
	row := &r.Row
	row.Status = schemas.StatusUnknown
	if row.Mode == "val" {
		row.Status = schemas.StatusFinished
		return
	}
	for _, f := range files {
		if f.Rel == "results.png" {
			row.Status = schemas.StatusFinished
			return
		}
	}
	if row.EpochsPlanned != nil && r.Results != nil {
		if row.EpochsCompleted >= *row.EpochsPlanned {
			row.Status = schemas.StatusFinished
		} else {
			row.Status = schemas.StatusInterrupted
		}
	}
}

// setEarlyStop marks a run finished when it stopped early because its
// fitness did not improve for `patience` epochs (EarlyStopping), which a
// cut-short results.csv otherwise looks like an interruption.
func (r *Run) setEarlyStop(args *Params) {
	row := &r.Row
	if row.Status != schemas.StatusInterrupted || row.BestEpoch == nil || args == nil {
		return
	}
	patience, ok := args.Int("patience")
	if ok && patience > 0 && row.EpochsCompleted-*row.BestEpoch >= patience {
		row.Status = schemas.StatusFinished
		r.warn(fmt.Sprintf("the run stopped early at epoch %d: no improvement for %d epochs after epoch %d (patience %d)",
			row.EpochsCompleted, row.EpochsCompleted-*row.BestEpoch, *row.BestEpoch, patience))
	}
}

// readFiles hashes every file to store and reads image sizes, in
// parallel. A broken image is an error naming it.
func (r *Run) readFiles(ctx context.Context, files []File) ([]fileDigest, error) {
	type result struct {
		sum  archive.FileSum
		w, h int
		mt   string
		err  error
	}
	results := make([]result, len(files))
	err := parallel(ctx, len(files), r.opts.Workers, func(i int) {
		f, res := files[i], &results[i]
		if f.Image {
			res.w, res.h, res.mt, res.err = imageSize(f.Path)
			if res.err != nil {
				res.err = fmt.Errorf("%w (remove the damaged image, or copy it again from the training machine)", res.err)
				return
			}
		}
		res.sum, res.err = archive.HashFile(f.Path)
	})
	if err != nil {
		return nil, err
	}
	var digests []fileDigest
	var skippedWeights []string
	var skippedBytes int64
	for i, f := range files {
		res := results[i]
		if res.err != nil {
			return nil, res.err
		}
		digests = append(digests, fileDigest{rel: f.Rel, digest: res.sum.SHA256})
		if f.Image {
			r.Images = append(r.Images, schemas.ImageRow{
				Blob: res.sum.SHA256, Role: f.Role, FileName: f.Rel, Name: stem(f.Rel), Step: f.Step,
				Width: int32(res.w), Height: int32(res.h), MediaType: res.mt, Size: res.sum.Size,
			})
			r.blobs = append(r.blobs, blob{res.sum, f.Path})
			continue
		}
		weights := f.Role == schemas.RoleWeightsBest || f.Role == schemas.RoleWeightsLast
		if (weights && r.opts.NoWeights) || (f.Role == schemas.RoleWeightsEpoch && !r.opts.AllWeights) {
			skippedWeights = append(skippedWeights, fmt.Sprintf("%s (%d bytes)", f.Rel, res.sum.Size))
			skippedBytes += res.sum.Size
			continue
		}
		r.Assets = append(r.Assets, schemas.AssetRow{Blob: res.sum.SHA256, Role: f.Role, FileName: f.Rel, Size: res.sum.Size, MediaType: mediaType(f.Rel)})
		r.blobs = append(r.blobs, blob{res.sum, f.Path})
		if f.Role == schemas.RolePredictionsJSON {
			r.predictions = f.Path
		}
	}
	if len(skippedWeights) > 0 {
		hint := "capture again without --no-weights"
		if !r.opts.NoWeights {
			hint = "capture again with --all-weights to keep periodic checkpoints"
		}
		r.gap("weights", fmt.Sprintf("left out by the capture options: %s", strings.Join(skippedWeights, ", ")), hint, bothTrackers)
	}
	if r.Row.Mode == "train" && !hasAssetRole(r.Assets, schemas.RoleWeightsBest) && !r.opts.NoWeights {
		r.gap("model", "weights/best.pt is not in the run directory: no model can be registered", "copy weights/ from the training machine", bothTrackers)
	}
	return digests, nil
}

func hasAssetRole(assets []schemas.AssetRow, role string) bool {
	for _, a := range assets {
		if a.Role == role {
			return true
		}
	}
	return false
}

// readCheckpoint reads the Ultralytics version and the settings the run
// really used (the AutoBatch batch size) from weights/best.pt, else
// weights/last.pt, even when the weights themselves are left out.
func (r *Run) readCheckpoint(files []File, vr *versionRange) {
	var path string
	for _, role := range []string{schemas.RoleWeightsBest, schemas.RoleWeightsLast} {
		for _, f := range files {
			if f.Role == role && path == "" {
				path = f.Path
			}
		}
	}
	if path == "" || r.Row.SourceKind == schemas.SourceYOLOv5Train {
		r.batchGap()
		return
	}
	ckpt, err := ReadCheckpoint(path)
	if err != nil {
		r.warn(err.Error() + " (the version and batch size it records are not used)")
		r.batchGap()
		return
	}
	if v, ok := parseVersion(ckpt.Version); ok {
		vr.exact = &v
		r.Row.UltralyticsVersion = &ckpt.Version
		if v.less(vr.min) || vr.max.less(v) {
			r.warn(fmt.Sprintf("%s records Ultralytics %s, outside the range the files suggest (%s to %s)", path, v, vr.min, vr.max))
		}
		vr.min, vr.max = v, v
		vr.evidence = append(vr.evidence, fmt.Sprintf("%s records version %s", filepath.Base(path), v))
	}
	if b, ok := ckpt.TrainArgs["batch"].(int64); ok && b > 0 && r.Row.Batch == nil {
		r.Row.Batch = &b
	}
	r.batchGap()
}

// batchGap records that the batch size is unknown, when it is.
func (r *Run) batchGap() {
	if r.Row.Batch == nil && r.Row.Mode == "train" {
		r.gap("batch_size", "args.yaml records batch -1 (AutoBatch) and no readable checkpoint gives the batch size the run used",
			"capture the run with its weights/ directory", cometOnly)
	}
}

// setVersion stores the version range in the run row.
func (r *Run) setVersion(vr *versionRange) {
	r.Row.VersionEvidence = vr.evidence
	if r.Row.SourceKind == schemas.SourceYOLOv5Train {
		return
	}
	if !vr.consistent() {
		r.Row.VersionEvidence = append(r.Row.VersionEvidence, "the facts conflict: no version range is given")
		r.warn("the Ultralytics version facts conflict: " + strings.Join(vr.evidence, "; "))
	} else {
		lo, hi := vr.min.String(), vr.max.String()
		if vr.max == lastKnown {
			hi = "8.4.x"
		}
		r.Row.VersionMin, r.Row.VersionMax = &lo, &hi
	}
	if vr.exact == nil {
		r.gap("ultralytics_version", "only the weights record the exact Ultralytics version; the range is inferred from the files",
			"", nil)
	}
}

// summarize finds the best epoch and the approximated final values.
func (r *Run) summarize(vr *versionRange) {
	if r.Row.Mode == "train" && r.Row.SourceKind != schemas.SourceYOLOv5Train {
		r.trainingGaps()
	}
	res := r.Results
	if res == nil {
		return
	}
	if r.Row.SourceKind != schemas.SourceYOLOv5Train && !res.HasColumn("time") {
		r.gap("epoch_time", "results.csv has no time column before Ultralytics 8.3.9: ClearML's Epoch Time cannot be rebuilt", "", clearmlOnly)
	}
	fit, formula, doubtful := fitnessFor(res, vr, r.Row.SourceKind == schemas.SourceYOLOv5Train)
	best, fitness, ok := bestRow(res, fit)
	if !ok {
		return
	}
	epoch := res.Rows[best].Epoch
	r.Row.BestEpoch = &epoch
	r.Summary = summaryRows(res, best, fitness, formula)
	if doubtful {
		r.warn("the fitness formula changed in Ultralytics 8.3.198 and the run's version range spans it: " + formula + " was used")
	}
}

// setTimes sets approximate start and end times from file modification
// times: the settings file is written when training starts (else the
// oldest file is used), results and weights when epochs end.
func (r *Run) setTimes(files []File) {
	var start, end, oldest time.Time
	for _, f := range files {
		st, err := os.Stat(f.Path)
		if err != nil {
			continue
		}
		m := st.ModTime().UTC().Truncate(time.Millisecond)
		if f.Rel == "args.yaml" || f.Rel == "opt.yaml" {
			start = m
		}
		if end.IsZero() || m.After(end) {
			end = m
		}
		if oldest.IsZero() || m.Before(oldest) {
			oldest = m
		}
	}
	if start.IsZero() {
		start = oldest
	}
	if !start.IsZero() {
		r.Row.StartedAt, r.Row.EndedAt = &start, &end
	}
	r.Row.TimeSource = "file-mtime"
}

// trainImageCount applies the fraction setting as Ultralytics does:
// im_files[:round(len(im_files) * fraction)].
func trainImageCount(n int, fraction float64) int64 {
	if fraction <= 0 || fraction >= 1 {
		return int64(n)
	}
	return int64(math.RoundToEven(float64(n) * fraction))
}
