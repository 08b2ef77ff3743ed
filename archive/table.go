package archive

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// rowGroupSize bounds the rows a Parquet writer buffers before it flushes
// a row group, and so the memory a large table takes while it is written.
const rowGroupSize = 64 << 10

// codec is the page compression of every table.
var codec = &zstd.Codec{Level: zstd.SpeedDefault}

// WriteRows writes a table holding rows. See [Writer.WriteTable].
func WriteRows[T any](w *Writer, name string, rows []T) error {
	return WriteRowsFunc(w, name, func(emit func(...T) error) error { return emit(rows...) })
}

// WriteRowsFunc writes a table whose rows produce passes to emit, in
// batches of any size, so that large tables are streamed rather than held
// in memory.
func WriteRowsFunc[T any](w *Writer, name string, produce func(emit func(...T) error) error) error {
	return w.WriteTable(name, func(out io.Writer) (int64, error) {
		pw := parquet.NewGenericWriter[T](out,
			parquet.Compression(codec),
			parquet.CreatedBy("yoloarchive", "", ""),
			parquet.MaxRowsPerRowGroup(rowGroupSize),
			parquet.KeyValueMetadata("yoloarchive.table", name),
		)
		var rows int64
		err := produce(func(batch ...T) error {
			n, err := pw.Write(batch)
			rows += int64(n)
			return err
		})
		if err != nil {
			return 0, err
		}
		if err := pw.Close(); err != nil {
			return 0, err
		}
		return rows, nil
	})
}

// ReadTable returns all rows of a table. A table the archive does not hold
// (one added by a later format version) reads as empty.
func ReadTable[T any](ctx context.Context, a *Archive, name string) ([]T, error) {
	var out []T
	err := ScanTable(ctx, a, name, func(rows []T) error {
		out = append(out, rows...)
		return nil
	})
	return out, err
}

// ScanTable calls fn with successive batches of a table's rows. The batch
// slice is reused between calls. It checks ctx between batches and
// returns its error, wrapped, once ctx is done, so that Ctrl-C does not
// wait for a table of millions of rows to be decoded.
func ScanTable[T any](ctx context.Context, a *Archive, name string, fn func(rows []T) error) error {
	sp, ok := a.tables[name]
	if !ok {
		return nil
	}
	f, err := parquet.OpenFile(sp.ReaderAt(), sp.Size())
	if err != nil {
		return fmt.Errorf("table %q: %w", name, err)
	}
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	_, minor, _ := schemas.ParseFormatVersion(a.Header.FormatVersion)
	// Never ask for more rows than are left: asking past the end of a row
	// group makes parquet-go read one more page header per missing row and
	// column (1 row of the run table in a 512-row batch took 19,000).
	left := f.NumRows()
	buf := make([]T, min(512, max(left, 1)))
	for {
		if left <= 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("table %q: %w", name, err)
		}
		buf = buf[:min(int64(len(buf)), left)]
		clear(buf) // the reader may reuse slices it finds in buf; rows handed out must not alias
		n, err := r.Read(buf)
		left -= int64(n)
		for i := range buf[:n] {
			// Rows of an older minor version lack later columns.
			if f, ok := any(&buf[i]).(interface{ FromFormat(int) }); ok {
				f.FromFormat(minor)
			}
		}
		if n > 0 {
			if ferr := fn(buf[:n]); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("table %q: %w", name, err)
		}
	}
}
