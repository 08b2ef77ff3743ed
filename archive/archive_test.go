package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

const testRunID = "0123456789abcdef0123456789abcdef"

func testHeader() schemas.Header {
	return schemas.Header{
		RunID:      testRunID,
		SourceKind: schemas.SourceUltralyticsTrain,
		Writer:     "yoloarchive test",
		Tables:     []string{schemas.TableRun, schemas.TableScalars},
	}
}

func testScalars() []schemas.ScalarRow {
	var rows []schemas.ScalarRow
	for e := int64(1); e <= 50; e++ {
		rows = append(rows, schemas.ScalarRow{Metric: "train/box_loss", Epoch: e, Value: 1 / float64(e), Origin: "results.csv", Line: e + 1})
	}
	return rows
}

// writeTestArchive writes an archive with two tables and the given files
// as blobs, and returns its path, manifest and digest.
func writeTestArchive(t testing.TB, dir string, opts archive.Options, files ...string) (string, schemas.Manifest, string) {
	t.Helper()
	dst := filepath.Join(dir, "run.tar.zst")
	w, err := archive.Create(dst, testHeader(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{{RunID: testRunID, Name: "train", ClassNames: []string{"a", "b"}}}); err != nil {
		t.Fatal(err)
	}
	if err := archive.WriteRows(w, schemas.TableScalars, testScalars()); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		sum, err := archive.HashFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddFile(sum, f); err != nil {
			t.Fatal(err)
		}
	}
	m, digest, err := w.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dst, m, digest
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestWriter_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	a1 := writeFile(t, dir, "a.jpg", bytes.Repeat([]byte("jpeg"), 10000))
	a2 := writeFile(t, dir, "b.png", []byte("png bytes"))
	dup := writeFile(t, dir, "c.png", []byte("png bytes")) // same content: stored once
	empty := writeFile(t, dir, "empty", nil)
	dst, m, digest := writeTestArchive(t, dir, archive.Options{}, a1, a2, dup, empty)

	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Digest != digest {
		t.Errorf("digest = %s, want %s", a.Digest, digest)
	}
	if !reflect.DeepEqual(a.Manifest, m) {
		t.Errorf("manifest read back differs:\n%+v\n%+v", a.Manifest, m)
	}
	if got, want := len(m.Entries), 1+2+3; got != want { // header, 2 tables, 3 distinct blobs
		t.Errorf("entries = %d, want %d", got, want)
	}
	if got := a.Rows(schemas.TableScalars); got != 50 {
		t.Errorf("scalar rows = %d, want 50", got)
	}
	rows, err := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, testScalars()) {
		t.Errorf("scalars read back differ")
	}
	run, err := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
	if err != nil || len(run) != 1 || !reflect.DeepEqual(run[0].ClassNames, []string{"a", "b"}) {
		t.Errorf("run table = %+v, %v", run, err)
	}
	if rows, err := archive.ReadTable[schemas.GapRow](context.Background(), a, "not_there"); err != nil || len(rows) != 0 {
		t.Errorf("missing table = %v, %v; want empty", rows, err)
	}
	got := map[string][]byte{}
	err = a.Blobs(context.Background(), nil, func(e *archive.Entry) error {
		b, err := io.ReadAll(e)
		got[e.Key] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{a1, a2, empty} {
		want, _ := os.ReadFile(f)
		if !bytes.Equal(got[sum(want)], want) {
			t.Errorf("blob of %s differs", f)
		}
	}
	if len(got) != 3 {
		t.Errorf("blobs = %d, want 3", len(got))
	}
	if _, err := archive.Verify(context.Background(), dst); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("archive mode = %v, %v; want 0644", st.Mode(), err)
	}
}

func TestWriter_Deterministic(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "x.bin", bytes.Repeat([]byte("0123456789"), 300000))
	var outs [][]byte
	for i, c := range []int{1, 2, 8} {
		sub := filepath.Join(dir, string(rune('a'+i)))
		os.Mkdir(sub, 0o755)
		p, _, _ := writeTestArchive(t, sub, archive.Options{Concurrency: c}, f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	for i := 1; i < len(outs); i++ {
		if !bytes.Equal(outs[0], outs[i]) {
			t.Fatalf("archive %d differs from archive 0", i)
		}
	}
}

// leftovers lists the files in dir other than keep.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !contains(keep, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestWriter_NothingLeftBehind(t *testing.T) {
	t.Run("Abort", func(t *testing.T) {
		dir := t.TempDir()
		w, err := archive.Create(filepath.Join(dir, "out.tar.zst"), testHeader(), archive.Options{})
		if err != nil {
			t.Fatal(err)
		}
		w.Abort()
		if l := leftovers(t, dir); len(l) != 0 {
			t.Errorf("left behind: %v", l)
		}
	})
	t.Run("MissingTable", func(t *testing.T) {
		dir := t.TempDir()
		w, _ := archive.Create(filepath.Join(dir, "out.tar.zst"), testHeader(), archive.Options{})
		if err := archive.WriteRows(w, schemas.TableScalars, testScalars()); !errors.Is(err, archive.ErrBadEntry) {
			t.Errorf("out-of-order table: err = %v, want ErrBadEntry", err)
		}
		if _, _, err := w.Close(context.Background()); err == nil {
			t.Error("Close succeeded after an error")
		}
		if l := leftovers(t, dir); len(l) != 0 {
			t.Errorf("left behind: %v", l)
		}
	})
	// changed writes a one-blob archive whose file is rewritten by change
	// after it was hashed: Close must fail naming it and leave nothing.
	changed := func(t *testing.T, change []byte) {
		dir := t.TempDir()
		f := writeFile(t, dir, "w.pt", []byte("weights v1"))
		w, _ := archive.Create(filepath.Join(dir, "out.tar.zst"), testHeader(), archive.Options{})
		archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{{RunID: testRunID}})
		archive.WriteRows(w, schemas.TableScalars, testScalars())
		sum, _ := archive.HashFile(f)
		w.AddFile(sum, f)
		writeFile(t, dir, "w.pt", change)
		_, _, err := w.Close(context.Background())
		if !errors.Is(err, archive.ErrChecksum) || !strings.Contains(err.Error(), "w.pt") {
			t.Errorf("err = %v, want a checksum error naming w.pt", err)
		}
		if l := leftovers(t, dir, "w.pt"); len(l) != 0 {
			t.Errorf("left behind: %v", l)
		}
	}
	t.Run("FileChangedWhileCapturing", func(t *testing.T) { changed(t, []byte("weights v2")) }) // same size
	t.Run("FileShrank", func(t *testing.T) { changed(t, []byte("w")) })
}

func TestCreate_BadHeader(t *testing.T) {
	h := testHeader()
	h.RunID = "not-hex"
	if _, err := archive.Create(filepath.Join(t.TempDir(), "x"), h, archive.Options{}); !errors.Is(err, archive.ErrBadManifest) {
		t.Errorf("err = %v, want ErrBadManifest", err)
	}
}

// rawEntry is one entry of a hand-made archive.
type rawEntry struct {
	name string
	typ  byte
	data []byte
	link string
}

// rawArchive builds a tar.zst from entries, with no checks at all.
func rawArchive(t testing.TB, entries []rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(enc)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.data)), Linkname: e.link, Format: tar.FormatPAX}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write(e.data)
		}
	}
	tw.Close()
	enc.Close()
	return buf.Bytes()
}

func headerJSON(mod func(*schemas.Header)) []byte {
	h := testHeader()
	h.Format = schemas.FormatName
	h.FormatVersion = schemas.FormatVersion
	h.Tables = nil
	if mod != nil {
		mod(&h)
	}
	b, _ := json.Marshal(h)
	return b
}

func manifestJSON(entries []rawEntry) []byte {
	m := schemas.Manifest{Format: schemas.FormatName, FormatVersion: schemas.FormatVersion, RunID: testRunID}
	for _, e := range entries {
		m.Entries = append(m.Entries, schemas.ManifestEntry{Path: e.name, Size: int64(len(e.data)), SHA256: sum(e.data)})
	}
	b, _ := json.Marshal(m)
	return b
}

// validEntries returns a minimal valid archive's entries (header, one
// blob, manifest).
func validEntries() []rawEntry {
	blob := []byte("hello")
	es := []rawEntry{
		{name: schemas.HeaderPath, data: headerJSON(nil)},
		{name: "blobs/" + sum(blob), data: blob},
	}
	return append(es, rawEntry{name: schemas.ManifestPath, data: manifestJSON(es)})
}

func readAll(data []byte) error { return readAllUnder(data, archive.Limits{}) }

// readAllUnder reads an archive to its end under the limits.
func readAllUnder(data []byte, limits archive.Limits) error {
	r, err := archive.NewReader(bytes.NewReader(data), limits)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		e, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, e); err != nil {
			return err
		}
	}
}

func TestReader_Refuses(t *testing.T) {
	blob := []byte("hello")
	blobName := "blobs/" + sum(blob)
	withManifest := func(es ...rawEntry) []rawEntry {
		return append(es, rawEntry{name: schemas.ManifestPath, data: manifestJSON(es)})
	}
	hdr := rawEntry{name: schemas.HeaderPath, data: headerJSON(nil)}
	for _, tc := range []struct {
		name    string
		entries []rawEntry
		want    error
		entry   string // the error must name this
	}{
		{"Valid", validEntries(), nil, ""},
		{"AbsolutePath", withManifest(hdr, rawEntry{name: "/etc/passwd", data: blob}), archive.ErrInsecurePath, "/etc/passwd"},
		{"DotDot", withManifest(hdr, rawEntry{name: "../evil", data: blob}), archive.ErrInsecurePath, "../evil"},
		{"DotDotInside", withManifest(hdr, rawEntry{name: "blobs/../../evil", data: blob}), archive.ErrInsecurePath, "blobs/../../evil"},
		{"Symlink", withManifest(hdr, rawEntry{name: blobName, typ: tar.TypeSymlink, link: "/etc/passwd"}), archive.ErrBadEntry, blobName},
		{"Hardlink", withManifest(hdr, rawEntry{name: blobName, typ: tar.TypeLink, link: schemas.HeaderPath}), archive.ErrBadEntry, blobName},
		{"Directory", withManifest(hdr, rawEntry{name: "blobs", typ: tar.TypeDir}), archive.ErrBadEntry, "blobs"},
		{"Duplicate", withManifest(hdr, rawEntry{name: blobName, data: blob}, rawEntry{name: blobName, data: blob}), archive.ErrBadEntry, blobName},
		{"UnknownEntry", withManifest(hdr, rawEntry{name: "notes.txt", data: blob}), archive.ErrBadEntry, "notes.txt"},
		{"BlobNotMatchingName", withManifest(hdr, rawEntry{name: "blobs/" + sum([]byte("other")), data: blob}), archive.ErrChecksum, "blobs/"},
		{"UnknownMajor", withManifest(rawEntry{name: schemas.HeaderPath, data: headerJSON(func(h *schemas.Header) { h.FormatVersion = "2.0" })}), archive.ErrUnsupportedVersion, ""},
		{"NotOurFormat", withManifest(rawEntry{name: schemas.HeaderPath, data: headerJSON(func(h *schemas.Header) { h.Format = "other" })}), archive.ErrNotArchive, ""},
		{"HeaderNotFirst", withManifest(rawEntry{name: blobName, data: blob}, hdr), archive.ErrNotArchive, blobName},
		{"NoManifest", []rawEntry{hdr, {name: blobName, data: blob}}, archive.ErrTruncated, ""},
		{"EntryAfterManifest", append(withManifest(hdr), rawEntry{name: blobName, data: blob}), archive.ErrBadEntry, ""},
		{"ManifestWrongHash", []rawEntry{hdr, {name: blobName, data: blob}, {name: schemas.ManifestPath, data: manifestJSON([]rawEntry{hdr, {name: blobName, data: []byte("hellO")}})}}, archive.ErrChecksum, blobName},
		{"ManifestMissesEntry", []rawEntry{hdr, {name: blobName, data: blob}, {name: schemas.ManifestPath, data: manifestJSON([]rawEntry{hdr})}}, archive.ErrBadManifest, ""},
		{"TableMissing", withManifest(rawEntry{name: schemas.HeaderPath, data: headerJSON(func(h *schemas.Header) { h.Tables = []string{"run"} })}, rawEntry{name: blobName, data: blob}), archive.ErrBadEntry, "run"},
		{"BlobBeforeTable", withManifest(hdr, rawEntry{name: blobName, data: blob}, rawEntry{name: "tables/run.parquet", data: blob}), archive.ErrBadEntry, "tables/run.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readAll(rawArchive(t, tc.entries))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.entry) {
				t.Errorf("error %q does not name %q", err, tc.entry)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

// TestReader_Truncated cuts a real archive at many lengths: every cut must
// be refused, never accepted and never panic.
func TestReader_Truncated(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "img.jpg", bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 20000))
	p, _, _ := writeTestArchive(t, dir, archive.Options{}, f)
	data, _ := os.ReadFile(p)
	step := len(data)/200 + 1
	for n := 0; n < len(data); n += step {
		if err := readAll(data[:n]); err == nil {
			t.Fatalf("archive cut at %d of %d bytes was accepted", n, len(data))
		}
	}
	if err := readAll(data[:len(data)-1]); err == nil {
		t.Fatal("archive missing its last byte was accepted")
	}
}

// TestReader_FlippedByte flips one bit at many positions of a real archive:
// every corruption of the content must be detected. (A few bits of a zstd
// frame do not affect what it decodes to, such as unused bits of an
// entropy table header; a flip there leaves the archive's content, and so
// its checksums, intact.)
func TestReader_FlippedByte(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "img.jpg", bytes.Repeat([]byte("abcdefgh"), 5000))
	p, _, _ := writeTestArchive(t, dir, archive.Options{}, f)
	data, _ := os.ReadFile(p)
	step := len(data)/300 + 1
	for i := 0; i < len(data); i += step {
		bad := bytes.Clone(data)
		bad[i] ^= 0x10
		if err := readAll(bad); err == nil && !sameContent(t, data, bad) {
			t.Fatalf("archive with byte %d of %d flipped was accepted", i, len(data))
		}
	}
}

func TestVerify_File(t *testing.T) {
	dir := t.TempDir()
	p, _, digest := writeTestArchive(t, dir, archive.Options{})
	a, err := archive.Verify(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != digest || a.Header.RunID != testRunID {
		t.Errorf("verify = %s %s", a.Digest, a.Header.RunID)
	}
	data, _ := os.ReadFile(p)
	bad := filepath.Join(dir, "bad.tar.zst")
	os.WriteFile(bad, data[:len(data)/2], 0o644)
	if _, err := archive.Verify(context.Background(), bad); !errors.Is(err, archive.ErrTruncated) && !errors.Is(err, archive.ErrChecksum) {
		t.Errorf("truncated: err = %v", err)
	}
}

// TestVerify_Columns writes a scalars table that lacks format 1.0's
// columns: Verify must refuse it, naming the column.
func TestVerify_Columns(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "run.tar.zst")
	w, err := archive.Create(dst, testHeader(), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{{RunID: testRunID}})
	type partial struct {
		Metric string  `parquet:"metric"`
		Value  float64 `parquet:"value"`
	}
	archive.WriteRows(w, schemas.TableScalars, []partial{{"loss", 1}})
	if _, _, err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = archive.Verify(context.Background(), dst)
	if !errors.Is(err, archive.ErrBadManifest) || !strings.Contains(err.Error(), `table "scalars"`) || !strings.Contains(err.Error(), "column epoch is missing") {
		t.Errorf("err = %v", err)
	}
}

// TestCanceled cancels writing and reading: both stop with the context's
// error, and the writer leaves nothing behind.
func TestCanceled(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "big.bin", bytes.Repeat([]byte{7}, 1<<20))
	p, _, _ := writeTestArchive(t, dir, archive.Options{}, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := archive.Open(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("Open: err = %v, want context.Canceled", err)
	}
	out := t.TempDir()
	w, _ := archive.Create(filepath.Join(out, "run.tar.zst"), testHeader(), archive.Options{})
	archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{{RunID: testRunID}})
	archive.WriteRows(w, schemas.TableScalars, testScalars())
	sum, _ := archive.HashFile(f)
	w.AddFile(sum, f)
	if _, _, err := w.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close: err = %v, want context.Canceled", err)
	}
	if l := leftovers(t, out); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

// sameContent reports whether two zstd streams decode to the same bytes.
func sameContent(t *testing.T, a, b []byte) bool {
	t.Helper()
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	x, err1 := d.DecodeAll(a, nil)
	y, err2 := d.DecodeAll(b, nil)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
