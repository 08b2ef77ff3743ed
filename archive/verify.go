package archive

import (
	"context"
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// Verify reads the archive at path completely and checks everything the
// format promises: structure, order, names, every checksum, and that every
// table is a readable Parquet file with the row count the manifest records.
// It returns the opened archive's summary fields (the tables are released).
func Verify(ctx context.Context, path string) (*Archive, error) {
	a, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	for _, name := range a.Header.Tables {
		sp := a.tables[name]
		f, err := parquet.OpenFile(sp.ReaderAt(), sp.Size())
		if err != nil {
			return nil, fmt.Errorf("table %q: %w: not a readable Parquet file: %v", name, ErrChecksum, err)
		}
		if got, want := f.NumRows(), a.rows[name]; got != want {
			return nil, fmt.Errorf("table %q: %w: %d rows, the manifest says %d", name, ErrBadManifest, got, want)
		}
	}
	return a, nil
}
