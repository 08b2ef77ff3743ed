package archive

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// checkTable checks a spooled table against its manifest entry and the
// budget before any row is decoded: its row count is the manifest's, not
// negative and within MaxRows, and every page of every column chunk
// decodes to at most MaxValueBytes, as the page headers declare (the
// Parquet reader refuses a page whose decoded size differs from its
// header's). It returns the table opened without its page index and bloom
// filters.
func checkTable(name string, sp *spool, rows int64, l Limits) (*parquet.File, error) {
	if rows < 0 {
		return nil, fmt.Errorf("table %q: %w: the manifest says %d rows", name, ErrBadManifest, rows)
	}
	if rows > l.MaxRows {
		return nil, fmt.Errorf("table %q: %w", name, overBudget("rows", rows, "rows", l.MaxRows))
	}
	// The footer (file metadata, statistics included) is decoded whole:
	// it is bounded like a page.
	var tail [8]byte
	if sp.Size() >= 8 {
		if _, err := sp.ReaderAt().ReadAt(tail[:], sp.Size()-8); err != nil {
			return nil, fmt.Errorf("table %q: %w", name, err)
		}
		if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > l.MaxValueBytes {
			return nil, fmt.Errorf("table %q: %w", name, overBudget("Parquet footer size", n, "value", l.MaxValueBytes))
		}
	}
	f, err := parquet.OpenFile(sp.ReaderAt(), sp.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("table %q: %w: not a readable Parquet file: %v", name, ErrChecksum, err)
	}
	if got := f.NumRows(); got != rows {
		return nil, fmt.Errorf("table %q: %w: %d rows, the manifest says %d", name, ErrBadManifest, got, rows)
	}
	section := io.NewSectionReader(sp.ReaderAt(), 0, sp.Size())
	rbuf := bufio.NewReaderSize(section, 4096)
	compact := &thrift.CompactProtocol{}
	dec := thrift.NewDecoder(compact.NewReader(rbuf))
	for g, rg := range f.Metadata().RowGroups {
		for c, cc := range rg.Columns {
			md := cc.MetaData
			start := md.DataPageOffset
			if off := md.DictionaryPageOffset; off > 0 && off < start {
				start = off
			}
			end := start + md.TotalCompressedSize
			if start < 0 || md.TotalCompressedSize < 0 || end > sp.Size() || end < start {
				return nil, fmt.Errorf("table %q: %w: row group %d column %d lies outside the file", name, ErrChecksum, g, c)
			}
			for pos := start; pos < end; {
				if _, err := section.Seek(pos, io.SeekStart); err != nil {
					return nil, err
				}
				rbuf.Reset(section)
				var h format.PageHeader
				if err := dec.Decode(&h); err != nil {
					return nil, fmt.Errorf("table %q: %w: row group %d column %d: bad page header: %v", name, ErrChecksum, g, c, err)
				}
				if h.CompressedPageSize < 0 || h.UncompressedPageSize < 0 {
					return nil, fmt.Errorf("table %q: %w: row group %d column %d: negative page size", name, ErrChecksum, g, c)
				}
				if int64(h.UncompressedPageSize) > l.MaxValueBytes {
					col := md.PathInSchema
					return nil, fmt.Errorf("table %q: column %v: %w", name, col, overBudget("decoded page size", int64(h.UncompressedPageSize), "value", l.MaxValueBytes))
				}
				hdrEnd, _ := section.Seek(0, io.SeekCurrent)
				hdrEnd -= int64(rbuf.Buffered())
				pos = hdrEnd + int64(h.CompressedPageSize)
			}
		}
	}
	return f, nil
}
