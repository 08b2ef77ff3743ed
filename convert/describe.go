package convert

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// describe fills the run row from the settings, the results and the file
// names, and returns the version range those facts give.
func (r *Run) describe(args *Params, files []File) *versionRange {
	row := &r.Info
	vr := newVersionRange()
	yolov5 := row.SourceKind == schemas.SourceYOLOv5Train
	row.Producer = schemas.ProducerUltralytics
	if yolov5 {
		row.Producer = schemas.ProducerYOLOv5
	}
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
	detectLike := r.Info.Task == "detect" || r.Info.Task == "obb"
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
	row := &r.Info
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
	row := &r.Info
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

// readCheckpoint reads the Ultralytics version and the settings the run
// really used (the AutoBatch batch size) from weights/best.pt, else
// weights/last.pt, even when the weights themselves are left out.
func (r *Run) readCheckpoint(files []File, vr *versionRange) {
	var path, rel string
	for _, role := range []string{schemas.RoleWeightsBest, schemas.RoleWeightsLast} {
		for _, f := range files {
			if f.Role == role && path == "" {
				path, rel = f.Path, f.Rel
			}
		}
	}
	if path == "" || r.Info.SourceKind == schemas.SourceYOLOv5Train {
		r.batchGap()
		return
	}
	var ckpt *Checkpoint
	fh, err := r.dir.open(rel)
	if err == nil {
		ckpt, err = readCheckpointFile(fh, path)
		fh.Close()
	}
	if err != nil {
		r.warn(err.Error() + " (the version and batch size it records are not used)")
		r.batchGap()
		return
	}
	if v, ok := parseVersion(ckpt.Version); ok {
		vr.exact = &v
		r.Info.UltralyticsVersion = &ckpt.Version
		if v.less(vr.min) || vr.max.less(v) {
			r.warn(fmt.Sprintf("%s records Ultralytics %s, outside the range the files suggest (%s to %s)", path, v, vr.min, vr.max))
		}
		vr.min, vr.max = v, v
		vr.evidence = append(vr.evidence, fmt.Sprintf("%s records version %s", filepath.Base(path), v))
	}
	if b, ok := ckpt.TrainArgs["batch"].(int64); ok && b > 0 && r.Info.Batch == nil {
		r.Info.Batch = &b
	}
	r.batchGap()
}

// batchGap records that the batch size is unknown, when it is.
func (r *Run) batchGap() {
	if r.Info.Batch == nil && r.Info.Mode == "train" {
		r.gap(schemas.GapBatchSize, "args.yaml records batch -1 (AutoBatch) and no readable checkpoint gives the batch size the run used",
			"capture the run with its weights/ directory")
	}
}

// setVersion stores the version range in the run row.
func (r *Run) setVersion(vr *versionRange) {
	r.Info.VersionEvidence = vr.evidence
	if r.Info.SourceKind == schemas.SourceYOLOv5Train {
		return
	}
	if !vr.consistent() {
		r.Info.VersionEvidence = append(r.Info.VersionEvidence, "the facts conflict: no version range is given")
		r.warn("the Ultralytics version facts conflict: " + strings.Join(vr.evidence, "; "))
	} else {
		lo, hi := vr.min.String(), vr.max.String()
		if vr.max == lastKnown {
			hi = "8.4.x"
		}
		r.Info.VersionMin, r.Info.VersionMax = &lo, &hi
	}
	if vr.exact == nil {
		r.gap(schemas.GapUltralyticsVersion, "only the weights record the exact Ultralytics version; the range is inferred from the files",
			"")
	}
}

// setTimes sets approximate start and end times from file modification
// times: the settings file is written when training starts (else the
// oldest file is used), results and weights when epochs end.
func (r *Run) setTimes(files []File) {
	var start, end, oldest time.Time
	for _, f := range files {
		st, err := r.dir.lstat(f.Rel)
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
		r.Info.StartedAt, r.Info.EndedAt = &start, &end
	}
	r.Info.TimeSource = "file-mtime"
}
