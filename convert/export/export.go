// Package export writes archives' tables as an analytics dataset: a
// Hive-partitioned Parquet dataset (table=<name>/run=<run id>/part-0.parquet)
// that DuckDB, Spark and Trino query directly, Arrow IPC stream files for
// pyarrow and polars, or CSV for spreadsheets. Every table keeps the
// archive format's schema (the same columns for every run and version:
// a format 1.0 archive's missing columns are empty); scalars gain the run
// id and a unified metric name beside the original. A delta chain exports
// as one run, its links merged.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Formats Export writes.
const (
	Parquet = "parquet"
	Arrow   = "arrow"
	CSV     = "csv"
)

// Result describes one exported archive.
type Result struct {
	Archive string `json:"archive"`
	RunID   string `json:"run_id"`
	// Files are the files written, relative to the output directory.
	Files []string `json:"files"`
	// Rows counts the rows of each table.
	Rows map[string]int64 `json:"rows"`
	// Warnings are problems that did not stop the export (a chain's
	// links after a missing one, which are not read).
	Warnings []string `json:"warnings,omitempty"`
}

// Path is where a run's table goes below the output directory.
func Path(format, table, runID string) string {
	ext := map[string]string{Parquet: "parquet", Arrow: "arrows", CSV: "csv"}[format]
	return fmt.Sprintf("table=%s/run=%s/part-0.%s", table, runID, ext)
}

// Export verifies the archive at path and writes each of its tables to
// dir in the format. A chain (path is any of its links, or its base name)
// is one run: its links are verified, checked to follow one another and
// merged ([chain.Chain.Merged]), as sync replays them. Every table is
// written to a temporary file first and all are renamed into place at the
// end: exporting a run again replaces its files whole, and a failed export
// leaves the earlier files as they were. Exports of one run into one
// directory run one at a time.
func Export(ctx context.Context, path, dir, format string) (*Result, error) {
	switch format {
	case Parquet, Arrow, CSV:
	default:
		return nil, fmt.Errorf("unknown export format %q (parquet, arrow or csv)", format)
	}
	// A chain (capture --follow) is one run: its links merged, as sync
	// replays it.
	var (
		a        *archive.Archive
		merged   *archive.Tables
		warnings []string
	)
	target, err := chain.Resolve(path)
	if err != nil {
		return nil, err
	}
	if target.Chain {
		c, err := chain.Open(ctx, target.Path)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		if merged, err = c.Merged(ctx, 0); err != nil {
			return nil, err
		}
		a = c.Links[len(c.Links)-1]
		if len(c.Orphans) > 0 {
			warnings = append(warnings, fmt.Sprintf("link %d of the chain is missing: %d later link files (first %s) were not read", len(c.Links), len(c.Orphans), c.Orphans[0]))
		}
	} else {
		if a, err = archive.Open(ctx, path); err != nil {
			return nil, err
		}
		defer a.Close()
	}
	res := &Result{Archive: path, RunID: a.Header.RunID, Rows: map[string]int64{}, Warnings: warnings}
	// One export of a run at a time: two archives of one run (an old and
	// a new capture) must not interleave their tables.
	unlock := lockRun(dir, res.RunID)
	defer unlock()
	// Every table goes to a temporary file first; only when all are
	// written are they renamed into place, so a failed export leaves the
	// run's earlier files as they were.
	var staged []staging
	defer func() {
		for _, s := range staged {
			if s.tmp != "" {
				scratch.Remove(s.tmp)
			}
		}
	}()
	for _, table := range schemas.Tables {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel := Path(format, table, res.RunID)
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		tmp, n, err := exportTable(ctx, a, merged, table, format, dst)
		if err != nil {
			return nil, fmt.Errorf("%s: table %s: %w", path, table, err)
		}
		staged = append(staged, staging{tmp, dst})
		res.Files = append(res.Files, rel)
		res.Rows[table] = n
	}
	if err := scratch.Critical(func() error { return swap(staged) }); err != nil {
		return nil, fmt.Errorf("%s: %w (the run's earlier files are as they were)", path, err)
	}
	return res, nil
}

// swap puts every staged file in place, or none: each existing file is
// moved aside first, and on a failure the moved files come back.
func swap(staged []staging) error {
	type done struct{ dst, backup string }
	var moved []done
	undo := func() {
		for i := len(moved) - 1; i >= 0; i-- {
			os.Remove(moved[i].dst)
			if moved[i].backup != "" {
				os.Rename(moved[i].backup, moved[i].dst)
			}
		}
	}
	for i := range staged {
		s := &staged[i]
		backup := ""
		if st, err := os.Lstat(s.dst); err == nil {
			if !st.Mode().IsRegular() {
				undo()
				return fmt.Errorf("%s is not a regular file: move it away", s.dst)
			}
			backup = s.tmp + ".old"
			if err := os.Rename(s.dst, backup); err != nil {
				undo()
				return fmt.Errorf("%s: %w", s.dst, err)
			}
		}
		if err := os.Rename(s.tmp, s.dst); err != nil {
			if backup != "" {
				os.Rename(backup, s.dst)
			}
			undo()
			return fmt.Errorf("%s: %w", s.dst, err)
		}
		scratch.Release(s.tmp)
		s.tmp = "" // in place: nothing to remove
		moved = append(moved, done{s.dst, backup})
	}
	for _, m := range moved {
		if m.backup != "" {
			os.Remove(m.backup)
		}
	}
	return nil
}

// staging is a written temporary file and where it goes.
type staging struct{ tmp, dst string }

var (
	runLocksMu sync.Mutex
	runLocks   = map[string]*sync.Mutex{}
)

// lockRun serializes the exports of one run into one directory within
// this process.
func lockRun(dir, runID string) func() {
	runLocksMu.Lock()
	k := filepath.Clean(dir) + "\x00" + runID
	m := runLocks[k]
	if m == nil {
		m = &sync.Mutex{}
		runLocks[k] = m
	}
	runLocksMu.Unlock()
	m.Lock()
	return m.Unlock
}

// rowGroupSize bounds the rows the Parquet writer buffers before it
// flushes a row group (without it, a whole table is one row group held in
// memory).
const rowGroupSize = 64 << 10

// codec compresses the exported Parquet pages.
var codec = &zstd.Codec{Level: zstd.SpeedDefault}

// tableParquet writes one table as Parquet to w: the archive's own rows,
// or a chain's merged rows (merged not nil); scalars as Scalar rows.
func tableParquet(ctx context.Context, a *archive.Archive, merged *archive.Tables, table string, w io.Writer) (int64, error) {
	runID := a.Header.RunID
	switch table {
	case schemas.TableRun:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.RunRow { return []schemas.RunRow{t.Info} }, keep[schemas.RunRow])
	case schemas.TableScalars:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.ScalarRow { return t.Scalars }, func(s schemas.ScalarRow) Scalar { return scalar(runID, s) })
	case schemas.TableParams:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.ParamRow { return t.Params }, keep[schemas.ParamRow])
	case schemas.TableSummary:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.SummaryRow { return t.Summary }, keep[schemas.SummaryRow])
	case schemas.TableImages:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.ImageRow { return t.Images }, keep[schemas.ImageRow])
	case schemas.TableAnnotations:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.AnnotationRow { return t.Annotations }, keep[schemas.AnnotationRow])
	case schemas.TableAssets:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.AssetRow { return t.Assets }, keep[schemas.AssetRow])
	case schemas.TableGaps:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.GapRow { return t.Gaps }, keep[schemas.GapRow])
	case schemas.TableLogs:
		return copyTable(ctx, a, merged, table, w, func(t *archive.Tables) []schemas.LogRow { return t.Logs }, keep[schemas.LogRow])
	}
	return 0, fmt.Errorf("no export for table %q", table)
}

func keep[T any](r T) T { return r }

// copyTable writes a table's rows through conv into a Parquet writer: the
// merged rows pick chooses, or, without merged tables, the archive's rows
// streamed in batches.
func copyTable[T, U any](ctx context.Context, a *archive.Archive, merged *archive.Tables, table string, w io.Writer, pick func(*archive.Tables) []T, conv func(T) U) (int64, error) {
	pw := parquet.NewGenericWriter[U](w, parquet.Compression(codec), parquet.CreatedBy("yoloarchive", "", ""),
		parquet.MaxRowsPerRowGroup(rowGroupSize))
	var n int64
	out := make([]U, 0, 512)
	write := func(rows []T) error {
		for len(rows) > 0 {
			batch := rows[:min(len(rows), cap(out))]
			rows = rows[len(batch):]
			out = out[:0]
			for _, r := range batch {
				out = append(out, conv(r))
			}
			k, err := pw.Write(out)
			n += int64(k)
			if err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if merged != nil {
		err = write(pick(merged))
	} else {
		err = archive.ScanTable(ctx, a, table, write)
	}
	if err != nil {
		return 0, err
	}
	return n, pw.Close()
}

// exportTable writes one table in the format to a temporary file beside
// dst and returns its name and the rows written. Rows stream from the
// archive in batches: a Parquet export is written directly, an Arrow or
// CSV export goes through a temporary Parquet file beside dst, read back
// one record batch at a time. Memory is bounded by the batch and the
// budget's bytes per value, not by the table.
func exportTable(ctx context.Context, a *archive.Archive, merged *archive.Tables, table, format, dst string) (tmp string, n int64, err error) {
	if format == Parquet {
		tmp, err = writeTemp(dst, func(w io.Writer) error {
			bw := bufio.NewWriterSize(w, 1<<20)
			var err error
			if n, err = tableParquet(ctx, a, merged, table, bw); err != nil {
				return err
			}
			return bw.Flush()
		})
		return tmp, n, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", 0, err
	}
	pq, err := scratch.Create(filepath.Dir(dst), filepath.Base(dst)+".parquet")
	if err != nil {
		return "", 0, err
	}
	defer func() {
		pq.Close()
		scratch.Remove(pq.Name())
	}()
	bw := bufio.NewWriterSize(pq, 1<<20)
	if n, err = tableParquet(ctx, a, merged, table, bw); err != nil {
		return "", 0, err
	}
	if err := bw.Flush(); err != nil {
		return "", 0, err
	}
	tmp, err = writeTemp(dst, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var err error
		if format == Arrow {
			err = toArrow(ctx, pq, bw)
		} else {
			err = toCSV(ctx, pq, bw)
		}
		return errors.Join(err, bw.Flush())
	})
	return tmp, n, err
}

// source is a Parquet file to read back: a temporary file, or bytes in
// tests.
type source interface {
	io.ReaderAt
	io.Seeker
}

// writeTemp writes a temporary file beside dst and returns its name.
func writeTemp(dst string, fill func(io.Writer) error) (name string, err error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return "", err
	}
	f, err := scratch.Create(filepath.Dir(dst), filepath.Base(dst))
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			scratch.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return "", err
	}
	if err = f.Chmod(scratch.FileMode()); err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// records calls fn for each record batch of the Parquet bytes, and stops
// when ctx is done.
func records(ctx context.Context, src source, fn func(arrow.Record) error) error {
	rr, err := newBatches(src)
	if err != nil {
		return err
	}
	defer rr.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// toArrow converts Parquet bytes to an Arrow IPC stream.
func toArrow(ctx context.Context, src source, w io.Writer) error {
	var iw *ipc.Writer
	err := records(ctx, src, func(rec arrow.Record) error {
		if iw == nil {
			iw = ipc.NewWriter(w, ipc.WithSchema(rec.Schema()), ipc.WithZstd())
		}
		return iw.Write(rec)
	})
	if err != nil {
		if iw != nil {
			iw.Close()
		}
		return err
	}
	if iw == nil { // no rows: the schema alone
		rr, err := newBatches(src)
		if err != nil {
			return err
		}
		defer rr.Close()
		iw = ipc.NewWriter(w, ipc.WithSchema(rr.Schema()), ipc.WithZstd())
	}
	return iw.Close()
}

// toCSV converts Parquet bytes to CSV: a header of column names, then one
// line per row; lists as JSON, times as RFC 3339, nulls empty.
func toCSV(ctx context.Context, src source, w io.Writer) error {
	rr, err := newBatches(src)
	if err != nil {
		return err
	}
	var header []string
	for _, f := range rr.Schema().Fields() {
		header = append(header, f.Name)
	}
	rr.Close()
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	line := make([]string, len(header))
	err = records(ctx, src, func(rec arrow.Record) error {
		for i := 0; i < int(rec.NumRows()); i++ {
			if i%4096 == 4095 && ctx.Err() != nil { // a batch is 64k rows
				return ctx.Err()
			}
			for c := range line {
				line[c] = cell(rec.Column(c), i)
			}
			if err := cw.Write(line); err != nil {
				return err
			}
		}
		return nil
	})
	cw.Flush()
	return errors.Join(err, cw.Error())
}

// cell renders one value for CSV.
func cell(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return ""
	}
	switch c := col.(type) {
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		return c.Value(i).ToTime(unit).UTC().Format("2006-01-02T15:04:05.000Z")
	case *array.Dictionary:
		return cell(c.Dictionary(), c.GetValueIndex(i))
	}
	s := col.ValueStr(i)
	return strings.TrimSpace(s)
}
