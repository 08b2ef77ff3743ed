package archive_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
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
