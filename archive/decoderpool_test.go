package archive_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
)

// TestReadHeaderThenOpen_OneWindow: every command reads an archive's
// header (chain.Resolve) and then the archive (Open). The zstd decoder
// allocates the frame's window (8 MiB for a capture's archive) at its
// first block: the second read, and the next archives of a batch, reuse
// the first's.
func TestReadHeaderThenOpen_OneWindow(t *testing.T) {
	path := filepath.Join("..", "testdata", "archives", "v1.0-detect.tar.zst") // a capture of the detect fixture, 870 KiB
	read := func() {
		if _, err := archive.ReadHeader(path); err != nil {
			t.Fatal(err)
		}
		a, err := archive.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a GC would empty the pool
	read()
	var before, after runtime.MemStats
	const runs = 3
	runtime.ReadMemStats(&before)
	for range runs {
		read()
	}
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("ReadHeader + Open allocate %d KiB", perRun>>10)
	if perRun > 4<<20 {
		t.Errorf("ReadHeader + Open allocate %d KiB: each read allocates its own zstd window", perRun>>10)
	}
}

// TestReader_ClosedReadsNothing: an entry read after its Reader was closed
// fails, even once the decoder reads another archive.
func TestReader_ClosedReadsNothing(t *testing.T) {
	pathA, _, _ := writeTestArchive(t, t.TempDir(), archive.Options{})
	pathB, _, _ := writeTestArchive(t, t.TempDir(), archive.Options{})
	fA, err := os.Open(pathA)
	if err != nil {
		t.Fatal(err)
	}
	defer fA.Close()
	rA, err := archive.NewReader(fA, archive.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := rA.Next()
	if err != nil {
		t.Fatal(err)
	}
	rA.Close()
	rA.Close() // twice: still one decoder back in the pool
	fB, err := os.Open(pathB)
	if err != nil {
		t.Fatal(err)
	}
	defer fB.Close()
	for range 2 {
		rB, err := archive.NewReader(fB, archive.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer rB.Close()
		if _, err := fB.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := io.ReadAll(e); err == nil {
		t.Errorf("read %d bytes of %s after its reader was closed, want an error", len(b), e.Path)
	}
}
