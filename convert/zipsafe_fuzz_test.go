package convert

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
)

// fuzzZipLimits is the small budget FuzzExtractZip extracts under.
var fuzzZipLimits = ZipLimits{MaxEntries: 1000, MaxTotal: 8 << 20, MaxRatio: 1000, MaxTotalRatio: 100}

// FuzzExtractZip extracts fuzzed zips under a small budget: never a
// panic, never more bytes written than MaxTotal, never more allocated
// than a bounded amount, and nothing left on error.
func FuzzExtractZip(f *testing.F) {
	// Every mutation pays for extracting what its seed declares: the seeds
	// write little (two entries of 1 MiB of zeros cost 14 ms an input), and
	// the bombs are refused from the zip's directory.
	many := make([][2]string, 200)
	for i := range many {
		many[i] = [2]string{fmt.Sprintf("m/%d.bin", i), strings.Repeat("\x00", 64<<10)}
	}
	for _, entries := range [][][2]string{
		{{"task.json", `{"id":"offline-1"}`}, {"metrics.jsonl", "{}\n{}\n"}},
		{{"a/b.bin", strings.Repeat("\x00", 64<<10)}, {"a/c.bin", strings.Repeat("\x00", 64<<10)}},
		{{"bomb.bin", strings.Repeat("\x00", 8<<20)}}, // over 1000:1
		many, // 12.5 MiB declared in all: over the total
	} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			w, _ := zw.Create(e[0])
			w.Write([]byte(e[1]))
		}
		zw.Close()
		f.Add(buf.Bytes())
	}
	// One file per worker, rewritten for each input: a temporary
	// directory made and removed for each one cost a third of the time.
	src := filepath.Join(f.TempDir(), "s.zip")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
		metrics.Read(s)
		before := s[0].Value.Uint64()
		dir, err := extractZip(context.Background(), src, fuzzZipLimits)
		metrics.Read(s)
		if n := s[0].Value.Uint64() - before; n > 64<<20 {
			t.Fatalf("allocated %d MB extracting a %d-byte zip", n>>20, len(data))
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		defer scratch.Remove(dir)
		var written int64
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					written += fi.Size()
				}
			}
			return nil
		})
		if written > fuzzZipLimits.MaxTotal {
			t.Fatalf("extracted %d bytes, over the %d byte budget", written, fuzzZipLimits.MaxTotal)
		}
	})
}
