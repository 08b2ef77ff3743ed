package convert

import (
	"context"
	"fmt"
	"os"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Result describes a written archive.
type Result struct {
	// Source is the captured path; Archive the archive written.
	Source  string `json:"source"`
	Archive string `json:"archive"`
	// Resolved is the directory captured when Source is a symbolic link
	// to it ("" otherwise).
	Resolved string `json:"resolved,omitempty"`
	// RunID and Digest are the run's identity and the archive digest.
	RunID  string `json:"run_id"`
	Digest string `json:"digest"`
	// Size is the archive's size in bytes.
	Size int64 `json:"size"`
	// Rows counts the rows of each table.
	Rows map[string]int64 `json:"rows"`
	// Blobs and BlobBytes count the stored files.
	Blobs     int   `json:"blobs"`
	BlobBytes int64 `json:"blob_bytes"`
	// Gaps and Warnings are copied from the run.
	Gaps     []schemas.GapRow `json:"gaps"`
	Warnings []string         `json:"warnings"`
}

// Capture reads the run at src and writes its archive to dst atomically.
// On error nothing is left at dst.
func Capture(ctx context.Context, src, dst string, opts Options) (*Result, error) {
	r, err := Read(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Write(ctx, dst)
}

// Write writes the run's archive to dst: temporary file, fsync, rename.
func (r *Run) Write(ctx context.Context, dst string) (*Result, error) {
	h := schemas.Header{
		RunID:      r.Info.RunID,
		SourceKind: r.Info.SourceKind,
		Writer:     r.opts.Writer,
		Tables:     schemas.Tables,
	}
	m, digest, err := writeArchive(ctx, dst, h, r.opts.Workers, r.blobs, func(w *archive.Writer) error {
		// Scalars and annotations are streamed as they are computed; the
		// annotations may add a gap, written after them.
		return r.Tables.Write(ctx, w, map[string]func() error{
			schemas.TableScalars: func() error { return archive.WriteRowsFunc(w, schemas.TableScalars, r.emitScalars) },
			schemas.TableAnnotations: func() error {
				return archive.WriteRowsFunc(w, schemas.TableAnnotations, func(emit func(...schemas.AnnotationRow) error) error {
					return r.emitAnnotations(ctx, emit)
				})
			},
		})
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Source: r.Source, Archive: dst, RunID: r.Info.RunID, Rows: map[string]int64{}}
	if r.Given != "" {
		res.Source, res.Resolved = r.Given, r.Source
	}
	res.Digest = digest
	for _, e := range m.Entries {
		if e.Rows != nil {
			res.Rows[e.Path[len("tables/"):len(e.Path)-len(".parquet")]] = *e.Rows
		} else if len(e.Path) > 6 && e.Path[:6] == "blobs/" {
			res.Blobs++
			res.BlobBytes += e.Size
		}
	}
	if st, err := os.Stat(dst); err == nil {
		res.Size = st.Size()
	}
	res.Gaps, res.Warnings = r.Gaps, r.Warnings
	return res, nil
}

// Snapshot returns every table of the run in memory (scalars and
// annotations included, which Write streams).
func (r *Run) Snapshot(ctx context.Context) (*archive.Tables, error) {
	t := r.Tables
	t.Scalars, t.Annotations = nil, nil
	if err := r.emitScalars(func(rows ...schemas.ScalarRow) error { t.Scalars = append(t.Scalars, rows...); return nil }); err != nil {
		return nil, err
	}
	err := r.emitAnnotations(ctx, func(rows ...schemas.AnnotationRow) error { t.Annotations = append(t.Annotations, rows...); return nil })
	if err != nil {
		return nil, err
	}
	t.Gaps = r.Gaps // emitAnnotations may add one
	return t.Clone(), nil
}

// writeTables writes an archive of the given tables and files to dst
// atomically and returns its digest.
func writeTables(ctx context.Context, dst string, h schemas.Header, t *archive.Tables, blobs []blob, workers int) (string, error) {
	_, digest, err := writeArchive(ctx, dst, h, workers, blobs, func(w *archive.Writer) error { return t.Write(ctx, w, nil) })
	return digest, err
}

// writeArchive writes an archive atomically: the header, the tables
// (written by tables, in schemas.Tables order), then the files.
func writeArchive(ctx context.Context, dst string, h schemas.Header, workers int, blobs []blob, tables func(*archive.Writer) error) (schemas.Manifest, string, error) {
	w, err := archive.Create(dst, h, archive.Options{Concurrency: workers})
	if err != nil {
		return schemas.Manifest{}, "", err
	}
	defer w.Abort()
	if err := tables(w); err != nil {
		return schemas.Manifest{}, "", err
	}
	for _, b := range blobs {
		var err error
		if b.open != nil {
			err = w.AddFileFrom(b.sum, b.path, b.open)
		} else {
			err = w.AddFile(b.sum, b.path)
		}
		if err != nil {
			return schemas.Manifest{}, "", err
		}
	}
	return w.Close(ctx)
}

// emitScalars writes one scalar per results.csv cell, row by row, then
// the scalars a tracker session recorded.
func (r *Run) emitScalars(emit func(...schemas.ScalarRow) error) error {
	for i := 0; i < len(r.Scalars); i += 1024 {
		if err := emit(r.Scalars[i:min(i+1024, len(r.Scalars))]...); err != nil {
			return err
		}
	}
	if r.Results == nil {
		return nil
	}
	batch := make([]schemas.ScalarRow, 0, 1024)
	for _, row := range r.Results.Rows {
		for i, c := range r.Results.Columns {
			batch = append(batch, schemas.ScalarRow{Metric: c, Epoch: row.Epoch, Value: row.Values[i], Origin: "results.csv", Line: int64(row.Line)})
		}
		if len(batch) >= 1000 {
			if err := emit(batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return emit(batch...)
}

// emitAnnotations writes the ground truth of every validation image, then
// every prediction, streaming both.
func (r *Run) emitAnnotations(ctx context.Context, emit func(...schemas.AnnotationRow) error) error {
	if len(r.Annotations) > 0 {
		if err := emit(r.Annotations...); err != nil {
			return err
		}
	}
	if err := r.emitGroundTruth(ctx, emit); err != nil {
		return err
	}
	if r.annot == nil {
		return nil
	}
	f, err := r.dir.open(r.predictions)
	if err != nil {
		return err
	}
	defer f.Close()
	batch := make([]*Prediction, 0, predictionBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rows, err := r.annot.convert(ctx, batch)
		if err != nil {
			return fmt.Errorf("%s: %w", r.dir.path(r.predictions), err)
		}
		batch = batch[:0]
		return emit(rows...)
	}
	err = ReadPredictions(f, r.dir.path(r.predictions), func(p *Prediction) error {
		batch = append(batch, p)
		if len(batch) == predictionBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if n := r.annot.maskErrs; n > 0 {
		r.gap(schemas.GapMaskPolygons, fmt.Sprintf("%d segmentation masks in predictions.json could not be decoded (first: %s); captured with --skip-bad-masks, those predictions have no polygons, as the Comet callback omits points when decoding fails", n, r.annot.firstErr),
			"")
		r.warn(fmt.Sprintf("%s: %d masks could not be decoded (first: %s)", r.dir.path(r.predictions), n, r.annot.firstErr))
	}
	return nil
}

// emitGroundTruth writes the dataset labels of every validation image.
func (r *Run) emitGroundTruth(ctx context.Context, emit func(...schemas.AnnotationRow) error) error {
	if r.Dataset == nil || r.Dataset.Classify {
		return nil
	}
	var bad int
	var firstBad string
	for _, v := range r.valImages {
		if err := ctx.Err(); err != nil {
			return err
		}
		lp := LabelPath(v.path)
		if !statFile(lp) {
			continue // an image without labels is a background image
		}
		rows, err := ReadLabels(lp, r.Info.Task, v.width, v.height, r.Dataset.Names)
		if err != nil {
			bad++
			if firstBad == "" {
				firstBad = err.Error()
			}
			continue
		}
		origin := "labels:" + r.Dataset.Rel(lp)
		for i := range rows {
			rows[i].Image, rows[i].ImageFile, rows[i].Origin = v.key, v.rel, origin
		}
		if err := emit(rows...); err != nil {
			return err
		}
	}
	if bad > 0 {
		r.gap(schemas.GapGroundTruth, fmt.Sprintf("%d label files could not be read (first: %s); Ultralytics skips such images as corrupt", bad, firstBad), "")
		r.warn(fmt.Sprintf("%d dataset label files could not be read (first: %s)", bad, firstBad))
	}
	return nil
}
