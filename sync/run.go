package sync

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Run is an archive opened for replay: its verified header and tables. Blobs
// stay in the archive until Extract is called.
type Run struct {
	// Path is the archive's file name.
	Path string
	// Archive is the opened archive.
	Archive *archive.Archive
	// Info is the run table's single row.
	Info        schemas.RunRow
	Scalars     []schemas.ScalarRow
	Params      []schemas.ParamRow
	Summary     []schemas.SummaryRow
	Images      []schemas.ImageRow
	Annotations []schemas.AnnotationRow
	Assets      []schemas.AssetRow
	Gaps        []schemas.GapRow
	// Logs are a tracker session's console records (format 1.1).
	Logs []schemas.LogRow
}

// Open opens and verifies the archive at path and loads its tables. The
// caller must Close the Run.
func Open(ctx context.Context, path string) (*Run, error) {
	a, err := archive.Open(ctx, path)
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	r := &Run{Path: path, Archive: a}
	if err := r.load(); err != nil {
		a.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func (r *Run) load() error {
	runs, err := archive.ReadTable[schemas.RunRow](r.Archive, "run")
	if err != nil {
		return err
	}
	if len(runs) != 1 {
		return fmt.Errorf("%w: the run table has %d rows, want 1", archive.ErrBadManifest, len(runs))
	}
	r.Info = runs[0]
	if r.Scalars, err = readOpt[schemas.ScalarRow](r.Archive, "scalars"); err != nil {
		return err
	}
	if r.Params, err = readOpt[schemas.ParamRow](r.Archive, "params"); err != nil {
		return err
	}
	if r.Summary, err = readOpt[schemas.SummaryRow](r.Archive, "summary"); err != nil {
		return err
	}
	if r.Images, err = readOpt[schemas.ImageRow](r.Archive, "images"); err != nil {
		return err
	}
	if r.Annotations, err = readOpt[schemas.AnnotationRow](r.Archive, "annotations"); err != nil {
		return err
	}
	if r.Assets, err = readOpt[schemas.AssetRow](r.Archive, "assets"); err != nil {
		return err
	}
	if r.Gaps, err = readOpt[schemas.GapRow](r.Archive, "gaps"); err != nil {
		return err
	}
	if r.Logs, err = readOpt[schemas.LogRow](r.Archive, schemas.TableLogs); err != nil {
		return err
	}
	return nil
}

func readOpt[T any](a *archive.Archive, table string) ([]T, error) {
	if !a.HasTable(table) {
		return nil, nil
	}
	return archive.ReadTable[T](a, table)
}

// Close releases the archive.
func (r *Run) Close() error { return r.Archive.Close() }

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
	var n int64
	for _, s := range r.Scalars {
		n = max(n, s.Epoch)
	}
	return n
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
