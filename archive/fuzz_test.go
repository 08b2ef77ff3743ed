package archive_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

func TestNewReader_NotArchive(t *testing.T) {
	for name, data := range map[string][]byte{
		"Empty":       nil,
		"Text":        []byte("epoch,time\n1,2\n"),
		"PlainTar":    bytes.Repeat([]byte{0}, 1024),
		"ZstdOfNoTar": rawArchive(t, nil),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := archive.NewReader(bytes.NewReader(data), archive.Limits{})
			if !errors.Is(err, archive.ErrNotArchive) {
				t.Errorf("err = %v, want ErrNotArchive", err)
			}
		})
	}
}

// fuzzSeeds returns the seeds of the archive fuzz targets: valid
// archives, and the crafted ones that cost unbounded resources before the
// budget (kept small: every mutation pays for its seed's decoding).
func fuzzSeeds(f *testing.F) [][]byte {
	dir := f.TempDir()
	img := writeFile(f, dir, "img.jpg", []byte("not really a jpeg, but bytes"))
	p, _, _ := writeTestArchive(f, dir, archive.Options{}, img)
	valid, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	seeds := [][]byte{valid, rawArchive(f, validEntries()), valid[:len(valid)/2]}
	es := unpack(f, p)
	crafted := func(name string, rows map[string]int64, edit func([]rawEntry)) {
		es := append([]rawEntry(nil), es...)
		edit(es)
		dst := filepath.Join(dir, name)
		repack(f, dst, es, rows)
		b, err := os.ReadFile(dst)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	// A table of 20 MiB of zeros (the 4 GiB one of the issue, scaled
	// down), and manifests lying about row counts.
	crafted("zeros.tar.zst", nil, func(es []rawEntry) {
		for i := range es {
			if es[i].name == "tables/scalars.parquet" {
				es[i].data = make([]byte, 20<<20)
			}
		}
	})
	crafted("absurd-rows.tar.zst", map[string]int64{"tables/scalars.parquet": 1e12}, func([]rawEntry) {})
	crafted("negative-rows.tar.zst", map[string]int64{"tables/scalars.parquet": -5}, func([]rawEntry) {})
	return append(seeds, sparseArchive(), tarThenTail(f, hiddenEntry()))
}

// FuzzReader feeds arbitrary bytes to the streaming reader under a small
// budget, seeded with valid and crafted archives: it must never panic,
// never allocate more than the budget allows, and whatever it accepts
// must verify again identically.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		if n := allocated(func() { err = readAllUnder(data, fuzzBudget) }); n > fuzzAllocLimit {
			t.Fatalf("allocated %d MB under a budget that allows %d MB (read: %v)", n>>20, fuzzAllocLimit>>20, err)
		}
		if err != nil {
			return
		}
		if err := readAllUnder(data, fuzzBudget); err != nil {
			t.Fatalf("accepted once, refused the second time: %v", err)
		}
	})
}

// fuzzBudget is the small budget the archive fuzz targets read under.
var fuzzBudget = archive.Limits{MaxHeader: 64 << 10, MaxManifest: 1 << 20, MaxEntries: 1000, MaxWindow: 1 << 20,
	MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxTableBytes: 1 << 20, MaxRows: 10000, MaxValueBytes: 256 << 10}

// fuzzAllocLimit bounds the bytes one read under fuzzBudget may allocate
// in all (so its peak too): the budget's amounts (1 MiB of tables, a
// 1 MiB window, 256 KiB pages) with room for the decoders' buffers, the
// JSON entries and the rows decoded. Valid and crafted seeds allocate
// under 1 MB; the 20 MiB table of zeros, read with no budget, spools
// 16 MiB in memory and allocates 42 MB.
const fuzzAllocLimit = 32 << 20

// allocated returns the bytes fn allocates (all goroutines: the zstd
// decoder's included).
func allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// FuzzOpen opens fuzzed archives under a small budget and reads their
// tables: never a panic, and never more allocated than the budget allows,
// whatever sizes, row counts, pages or windows the bytes claim.
func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	// One file per worker, rewritten for each input: a temporary
	// directory made and removed for each one cost more than the read.
	path := filepath.Join(f.TempDir(), "f.tar.zst")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := archive.WithBudget(context.Background(), fuzzBudget)
		var oerr error
		n := allocated(func() {
			a, err := archive.Open(ctx, path)
			if oerr = err; err != nil {
				return
			}
			defer a.Close()
			archive.ScanTable(context.Background(), a, schemas.TableRun, func([]schemas.RunRow) error { return nil })
			archive.ScanTable(context.Background(), a, schemas.TableScalars, func([]schemas.ScalarRow) error { return nil })
		})
		if n > fuzzAllocLimit {
			t.Fatalf("allocated %d MB under a budget that allows %d MB (open: %v)", n>>20, fuzzAllocLimit>>20, oerr)
		}
		if oerr != nil && strings.Contains(oerr.Error(), "\n") {
			t.Fatalf("error of more than one line: %q", oerr)
		}
	})
}
