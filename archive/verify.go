package archive

import (
	"context"
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/schemas"
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
	_, minor, _ := schemas.ParseFormatVersion(a.Header.FormatVersion)
	for _, name := range a.Header.Tables {
		f, err := readWhole(a.tables[name], a.files[name])
		if err != nil {
			return nil, fmt.Errorf("table %q: %w: not a readable Parquet file: %v", name, ErrChecksum, err)
		}
		if row, ok := schemas.RowTypes[name]; ok {
			if err := checkColumns(name, minor, f.Schema(), parquet.SchemaOf(row)); err != nil {
				return nil, fmt.Errorf("table %q: %w: %v", name, ErrBadManifest, err)
			}
		}
	}
	return a, nil
}

// readWhole reads what Open's check of a table (f) skipped, its page index
// and bloom filters, as parquet.OpenFile reads them by default, and
// returns the table. Bloom filters are left to OpenFile, which opens the
// table again: capture writes none.
func readWhole(sp *spool, f *parquet.File) (*parquet.File, error) {
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.BloomFilterOffset > 0 {
				return parquet.OpenFile(sp.ReaderAt(), sp.Size())
			}
		}
	}
	if _, _, err := f.ReadPageIndex(); err != nil {
		return nil, fmt.Errorf("reading page index of parquet file: %w", err)
	}
	return f, nil
}

// checkColumns checks that a table has every column its archive's format
// version (1.minor) defines for it, with the same type. Columns added by a
// later minor version may be missing; extra columns are allowed.
func checkColumns(table string, minor int, got, want *parquet.Schema) error {
	have := map[string]parquet.Node{}
	for _, path := range got.Columns() {
		if leaf, ok := got.Lookup(path...); ok {
			have[strings.Join(path, ".")] = leaf.Node
		}
	}
	for _, path := range want.Columns() {
		key := strings.Join(path, ".")
		leaf, _ := want.Lookup(path...)
		node, ok := have[key]
		if !ok && schemas.ColumnsSince[table+"."+path[0]] > minor {
			continue
		}
		if !ok {
			return fmt.Errorf("column %s is missing", key)
		}
		if node.Type().Kind() != leaf.Node.Type().Kind() {
			return fmt.Errorf("column %s is %v, want %v", key, node.Type(), leaf.Node.Type())
		}
	}
	return nil
}
