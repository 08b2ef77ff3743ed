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

// FuzzReader feeds arbitrary bytes to the streaming reader, seeded with
// valid archives: it must never panic, and whatever it accepts must verify
// again identically.
func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	img := writeFile(f, dir, "img.jpg", []byte("not really a jpeg, but bytes"))
	p, _, _ := writeTestArchive(f, dir, archive.Options{}, img)
	valid, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(rawArchive(f, validEntries()))
	f.Add(valid[:len(valid)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := readAll(data); err != nil {
			return
		}
		if err := readAll(data); err != nil {
			t.Fatalf("accepted once, refused the second time: %v", err)
		}
	})
}

// fuzzBudget is the small budget FuzzOpen reads under.
var fuzzBudget = archive.Limits{MaxHeader: 64 << 10, MaxManifest: 1 << 20, MaxEntries: 1000, MaxWindow: 1 << 20,
	MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxTableBytes: 1 << 20, MaxRows: 10000, MaxValueBytes: 256 << 10}

// fuzzAllocLimit bounds the bytes one read under fuzzBudget may allocate
// in all (so its peak too): the decoder's window and blocks, the JSON
// entries, the spooled tables, and the pages and rows decoded.
const fuzzAllocLimit = 64 << 20

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
	dir := f.TempDir()
	img := writeFile(f, dir, "img.jpg", []byte("not really a jpeg, but bytes"))
	p, _, _ := writeTestArchive(f, dir, archive.Options{}, img)
	valid, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(rawArchive(f, validEntries()))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.tar.zst")
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
			archive.ScanTable(a, schemas.TableRun, func([]schemas.RunRow) error { return nil })
			archive.ScanTable(a, schemas.TableScalars, func([]schemas.ScalarRow) error { return nil })
		})
		if n > fuzzAllocLimit {
			t.Fatalf("allocated %d MB under a budget that allows %d MB (open: %v)", n>>20, fuzzAllocLimit>>20, oerr)
		}
		if oerr != nil && strings.Contains(oerr.Error(), "\n") {
			t.Fatalf("error of more than one line: %q", oerr)
		}
	})
}
