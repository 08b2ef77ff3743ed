package archive

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDecodeMapped_FileShrinks: a file cut short while it is mapped
// faults on its lost pages (SIGBUS): decodeMapped returns false, for the
// streaming decoder to read what is left, instead of crashing.
func TestDecodeMapped_FileShrinks(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "archives", "v1.0-detect.tar.zst"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.tar.zst")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, unmap, ok := mapFile(f, int64(len(data)), false)
	if !ok {
		t.Fatal("mapFile failed")
	}
	defer unmap()
	if _, _, ok := decodeMapped(b, Limits{}.withDefaults()); !ok {
		t.Fatal("the whole file mapped: not decoded")
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := decodeMapped(b, Limits{}.withDefaults()); ok {
		t.Fatal("decoded a file cut to 4 KiB while mapped")
	}
}

// TestPrefault_KeepsTheBytes: prefault maps pages in and changes nothing,
// whatever the buffer's alignment and size.
func TestPrefault_KeepsTheBytes(t *testing.T) {
	for _, size := range []int{0, 100, 4096*4 - 1, 4096 * 4, 100_003} {
		for _, off := range []int{0, 1, 4095} {
			buf := make([]byte, size+off)
			for i := range buf {
				buf[i] = byte(i * 7)
			}
			b := buf[off:]
			prefault(b)
			for i := range b {
				if b[i] != byte((i+off)*7) {
					t.Fatalf("size %d offset %d: byte %d changed", size, off, i)
				}
			}
		}
	}
}
