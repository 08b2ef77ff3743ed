package convert

import (
	"archive/zip"
	"errors"
	"io"
	"testing"
)

func FuzzDecodeCheckpoint(f *testing.F) {
	zr, err := zip.OpenReader("../testdata/checkpoints/best.pt")
	if err != nil {
		f.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.File[0].Open()
	if err != nil {
		f.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	f.Add(data)
	f.Add([]byte("\x80\x02}q\x00(X\x07\x00\x00\x00versionq\x01X\x07\x00\x00\x008.3.166q\x02u."))
	f.Add([]byte("\x80\x02X\xff\xff\xff\x7f."))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := decodeCheckpoint(data); err != nil && !errors.Is(err, ErrBadCheckpoint) {
			t.Fatalf("error does not wrap ErrBadCheckpoint: %v", err)
		}
	})
}
