package archive_test

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive"
)

// tarThenTail builds a valid archive's tar stream, then appends tail to
// the decompressed bytes after the tar end marker, all in one zstd frame.
func tarThenTail(t testing.TB, tail []byte) []byte {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for _, e := range validEntries() {
		tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data)), Format: tar.FormatPAX})
		tw.Write(e.data)
	}
	tw.Close()
	tarBuf.Write(tail)
	var out bytes.Buffer
	enc, _ := zstd.NewWriter(&out, zstd.WithEncoderCRC(true))
	enc.Write(tarBuf.Bytes())
	enc.Close()
	return out.Bytes()
}

// hiddenEntry is a tar entry as `tar -i` would extract it over a table.
func hiddenEntry() []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	data := []byte("PAR1 not the table you verified")
	tw.WriteHeader(&tar.Header{Name: "tables/scalars.parquet", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))})
	tw.Write(data)
	tw.Close()
	return b.Bytes()
}

func TestReader_NothingAfterTheEnd(t *testing.T) {
	valid := rawArchive(t, validEntries())
	if err := readAll(valid); err != nil {
		t.Fatalf("valid archive refused: %v", err)
	}
	skippable := binary.LittleEndian.AppendUint32(nil, 0x184D2A50)
	skippable = binary.LittleEndian.AppendUint32(skippable, 4)
	skippable = append(skippable, "hide"...)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"TarEntryAfterEndMarker", tarThenTail(t, hiddenEntry())},
		{"GarbageAfterEndMarker", tarThenTail(t, []byte("garbage"))},
		{"SecondZstdFrame", append(append([]byte{}, valid...), rawArchive(t, []rawEntry{{name: "tables/scalars.parquet", data: []byte("x")}})...)},
		{"SkippableFrame", append(append([]byte{}, valid...), skippable...)},
		{"GarbageAfterFrame", append(append([]byte{}, valid...), "garbage"...)},
		{"ZeroBytesAfterFrame", append(append([]byte{}, valid...), make([]byte, 512)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readAll(tc.data)
			if !errors.Is(err, archive.ErrBadEntry) && !errors.Is(err, archive.ErrChecksum) {
				t.Fatalf("err = %v, want the archive refused", err)
			}
		})
	}
	// An archive split into several zstd frames (as pzstd writes it) is
	// valid: the format allows one or more frames.
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for _, e := range validEntries() {
		tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data)), Format: tar.FormatPAX})
		tw.Write(e.data)
	}
	tw.Close()
	var frames []byte
	half := tarBuf.Len() / 2
	for _, part := range [][]byte{tarBuf.Bytes()[:half], tarBuf.Bytes()[half:]} {
		var out bytes.Buffer
		enc, _ := zstd.NewWriter(&out, zstd.WithEncoderCRC(true))
		enc.Write(part)
		enc.Close()
		frames = append(frames, out.Bytes()...)
	}
	if err := readAll(frames); err != nil {
		t.Fatalf("archive in two frames refused: %v", err)
	}
	// Zero padding after the end marker (GNU tar's 10240-byte records) is
	// still a valid archive.
	if err := readAll(tarThenTail(t, make([]byte, 9000))); err != nil {
		t.Fatalf("zero padding refused: %v", err)
	}
}

func TestVerify_AppendedEntryChangesNothingSilently(t *testing.T) {
	dir := t.TempDir()
	p, _, _ := writeTestArchive(t, dir, archive.Options{})
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var extra bytes.Buffer
	enc, _ := zstd.NewWriter(&extra)
	enc.Write(hiddenEntry())
	enc.Close()
	bad := filepath.Join(dir, "bad.tar.zst")
	if err := os.WriteFile(bad, append(data, extra.Bytes()...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Verify(t.Context(), bad); !errors.Is(err, archive.ErrBadEntry) {
		t.Fatalf("Verify of an archive with an appended frame: err = %v, want ErrBadEntry", err)
	}
}
