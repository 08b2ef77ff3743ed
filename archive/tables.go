package archive

import (
	"context"
	"fmt"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// Tables are the rows of every table of one archive (or of a chain's
// links merged, see package chain): the one in-memory form of the tables
// that capture writes and sync, restore and export load.
type Tables struct {
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

// LoadTables reads the named tables of an opened archive, every table
// when none is named, checking ctx between batches of rows. The run table must hold one row; any other table
// may be absent. Tables not named are left empty.
func LoadTables(ctx context.Context, a *Archive, names ...string) (*Tables, error) {
	if len(names) == 0 {
		names = schemas.Tables
	}
	t := &Tables{}
	for _, name := range names {
		var err error
		switch name {
		case schemas.TableRun:
			var runs []schemas.RunRow
			if runs, err = ReadTable[schemas.RunRow](ctx, a, schemas.TableRun); err == nil && len(runs) != 1 {
				err = fmt.Errorf("%w: the run table has %d rows, want 1", ErrBadManifest, len(runs))
			}
			if err == nil {
				t.Info = runs[0]
			}
		case schemas.TableScalars:
			t.Scalars, err = readOpt[schemas.ScalarRow](ctx, a, name)
		case schemas.TableParams:
			t.Params, err = readOpt[schemas.ParamRow](ctx, a, name)
		case schemas.TableSummary:
			t.Summary, err = readOpt[schemas.SummaryRow](ctx, a, name)
		case schemas.TableImages:
			t.Images, err = readOpt[schemas.ImageRow](ctx, a, name)
		case schemas.TableAnnotations:
			t.Annotations, err = readOpt[schemas.AnnotationRow](ctx, a, name)
		case schemas.TableAssets:
			t.Assets, err = readOpt[schemas.AssetRow](ctx, a, name)
		case schemas.TableGaps:
			t.Gaps, err = readOpt[schemas.GapRow](ctx, a, name)
		case schemas.TableLogs:
			t.Logs, err = readOpt[schemas.LogRow](ctx, a, name)
		default:
			err = fmt.Errorf("archive: no table %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// readOpt reads a table that may be absent (nil rows).
func readOpt[T any](ctx context.Context, a *Archive, table string) ([]T, error) {
	if !a.HasTable(table) || a.Rows(table) == 0 {
		// Most links of a chain hold a few tables: opening an empty one
		// costs as much as reading a small one.
		return nil, nil
	}
	return ReadTable[T](ctx, a, table)
}

// Write writes every table of t to w, in schemas.Tables order, checking
// ctx between tables. A table named in streamed is written by its
// function instead of from t (a capture streams the rows it computes
// while it writes).
func (t *Tables) Write(ctx context.Context, w *Writer, streamed map[string]func() error) error {
	for _, name := range schemas.Tables {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if write, ok := streamed[name]; ok {
			err = write()
		} else {
			err = t.writeTable(w, name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *Tables) writeTable(w *Writer, name string) error {
	switch name {
	case schemas.TableRun:
		return WriteRows(w, name, []schemas.RunRow{t.Info})
	case schemas.TableScalars:
		return WriteRows(w, name, t.Scalars)
	case schemas.TableParams:
		return WriteRows(w, name, t.Params)
	case schemas.TableSummary:
		return WriteRows(w, name, t.Summary)
	case schemas.TableImages:
		return WriteRows(w, name, t.Images)
	case schemas.TableAnnotations:
		return WriteRows(w, name, t.Annotations)
	case schemas.TableAssets:
		return WriteRows(w, name, t.Assets)
	case schemas.TableGaps:
		return WriteRows(w, name, t.Gaps)
	case schemas.TableLogs:
		return WriteRows(w, name, t.Logs)
	}
	return fmt.Errorf("archive: no table %q", name)
}

// Clone returns a copy of t whose slices can be changed independently.
func (t *Tables) Clone() *Tables {
	c := *t
	c.Scalars = append([]schemas.ScalarRow(nil), t.Scalars...)
	c.Params = append([]schemas.ParamRow(nil), t.Params...)
	c.Summary = append([]schemas.SummaryRow(nil), t.Summary...)
	c.Images = append([]schemas.ImageRow(nil), t.Images...)
	c.Annotations = append([]schemas.AnnotationRow(nil), t.Annotations...)
	c.Assets = append([]schemas.AssetRow(nil), t.Assets...)
	c.Gaps = append([]schemas.GapRow(nil), t.Gaps...)
	c.Logs = append([]schemas.LogRow(nil), t.Logs...)
	return &c
}

// Rows counts the rows of the keyed tables (every table but run, summary
// and gaps, which a chain link holds whole).
func (t *Tables) Rows() int {
	return len(t.Scalars) + len(t.Params) + len(t.Images) + len(t.Annotations) + len(t.Assets) + len(t.Logs)
}

// Digests returns the blob digests the tables reference.
func (t *Tables) Digests() map[string]bool {
	out := map[string]bool{}
	for _, im := range t.Images {
		if im.Blob != "" {
			out[im.Blob] = true
		}
	}
	for _, a := range t.Assets {
		if a.Blob != "" {
			out[a.Blob] = true
		}
	}
	return out
}
