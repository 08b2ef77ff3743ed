package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// unpack returns the entries of an archive file, in order.
func unpack(t testing.TB, path string) []rawEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tr := tar.NewReader(dec)
	var out []rawEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, rawEntry{name: h.Name, data: b})
	}
}

// repack writes entries as an archive file whose manifest matches them,
// with the row counts rows gives (the old manifest's when rows is nil).
func repack(t testing.TB, dst string, es []rawEntry, rows map[string]int64) {
	t.Helper()
	var old schemas.Manifest
	if err := json.Unmarshal(es[len(es)-1].data, &old); err != nil {
		t.Fatal(err)
	}
	m := schemas.Manifest{Format: old.Format, FormatVersion: old.FormatVersion, RunID: old.RunID}
	for i, e := range es[:len(es)-1] {
		me := schemas.ManifestEntry{Path: e.name, Size: int64(len(e.data)), SHA256: sum(e.data)}
		if i < len(old.Entries) && old.Entries[i].Path == e.name {
			me.Rows = old.Entries[i].Rows
		}
		if n, ok := rows[e.name]; ok {
			me.Rows = &n
		}
		m.Entries = append(m.Entries, me)
	}
	b, _ := json.Marshal(m)
	es = append(es[:len(es)-1:len(es)-1], rawEntry{name: schemas.ManifestPath, data: b})
	if err := os.WriteFile(dst, rawArchive(t, es), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_LyingRowCounts(t *testing.T) {
	dir := t.TempDir()
	p, _, _ := writeTestArchive(t, dir, archive.Options{})
	es := unpack(t, p)
	for _, tc := range []struct {
		name string
		rows int64
		want error
	}{
		{"Negative", -5, archive.ErrBadManifest},
		{"Absurd", 1e12, archive.ErrOverBudget},
		{"OffByOne", int64(len(testScalars())) + 1, archive.ErrBadManifest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(dir, tc.name+".tar.zst")
			repack(t, bad, es, map[string]int64{"tables/scalars.parquet": tc.rows})
			a, err := archive.Open(t.Context(), bad)
			if err == nil {
				a.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: err = %v, want %v", err, tc.want)
			}
		})
	}
	// The untouched archive repacked the same way still opens.
	good := filepath.Join(dir, "good.tar.zst")
	repack(t, good, es, nil)
	a, err := archive.Open(t.Context(), good)
	if err != nil {
		t.Fatalf("repacked valid archive: %v", err)
	}
	a.Close()
}

// emptyTempDir points TMPDIR at a new directory and returns a check that
// nothing was left in it.
func tempFiles(t *testing.T) func() []string {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return func() []string {
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
}

func TestOpen_Budget(t *testing.T) {
	dir := t.TempDir()
	big := writeFile(t, dir, "weights.pt", bytes.Repeat([]byte("w"), 100<<10))
	p, _, _ := writeTestArchive(t, dir, archive.Options{}, big)
	// A table whose one value is 2 MiB (it compresses to almost nothing).
	long := filepath.Join(dir, "long.tar.zst")
	{
		w, err := archive.Create(long, testHeader(), archive.Options{})
		if err != nil {
			t.Fatal(err)
		}
		archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{{RunID: testRunID, Name: strings.Repeat("n", 2<<20)}})
		archive.WriteRows(w, schemas.TableScalars, testScalars())
		if _, _, err := w.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, path, budget, key string
	}{
		{"Entry", p, "entry=64KiB", "entry="},
		{"Total", p, "total=64KiB", "total="},
		{"Tables", p, "tables=1KiB", "tables="},
		{"Rows", p, "rows=3", "rows="},
		{"Value", long, "value=1MiB", "value="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			left := tempFiles(t)
			l, err := archive.ParseBudget(tc.budget)
			if err != nil {
				t.Fatal(err)
			}
			ctx := archive.WithBudget(context.Background(), l)
			a, err := archive.Open(ctx, tc.path)
			if err == nil {
				a.Close()
			}
			if !errors.Is(err, archive.ErrOverBudget) {
				t.Fatalf("Open: err = %v, want ErrOverBudget", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Base(tc.path)) || !strings.Contains(msg, "--budget "+tc.key) {
				t.Errorf("error %q does not name the archive and the --budget setting %s", msg, tc.key)
			}
			if got := left(); len(got) != 0 {
				t.Errorf("left in TMPDIR: %v", got)
			}
			if _, err := archive.Verify(ctx, tc.path); !errors.Is(err, archive.ErrOverBudget) {
				t.Errorf("Verify: err = %v, want ErrOverBudget", err)
			}
			// The default budget reads it.
			a, err = archive.Open(context.Background(), tc.path)
			if err != nil {
				t.Fatalf("default budget: %v", err)
			}
			a.Close()
		})
	}
}

// TestOpen_HugeTableRefusedBeforeSpooling: a table entry whose tar header
// declares more than the budget is refused before a byte is spooled (it
// used to spool gigabytes to TMPDIR first).
func TestOpen_HugeTableRefusedBeforeSpooling(t *testing.T) {
	left := tempFiles(t)
	dir := t.TempDir()
	p, _, _ := writeTestArchive(t, dir, archive.Options{})
	es := unpack(t, p)
	for i := range es {
		if es[i].name == "tables/scalars.parquet" {
			es[i].data = make([]byte, 40<<20) // 40 MiB of zeros: over the 16 MiB kept in memory
		}
	}
	bad := filepath.Join(dir, "huge.tar.zst")
	repack(t, bad, es, nil)
	l, _ := archive.ParseBudget("tables=32MiB")
	_, err := archive.Open(archive.WithBudget(t.Context(), l), bad)
	if !errors.Is(err, archive.ErrOverBudget) {
		t.Fatalf("err = %v, want ErrOverBudget", err)
	}
	if got := left(); len(got) != 0 {
		t.Errorf("left in TMPDIR: %v", got)
	}
}

// TestReader_SparseEntry: a PAX sparse entry of a few hundred bytes
// expands to gigabytes of holes; the format never writes one.
func TestReader_SparseEntry(t *testing.T) {
	// archive/tar reads it as a 4 GiB file of holes named tables/run.parquet.
	if err := readAll(sparseArchive()); !errors.Is(err, archive.ErrBadEntry) || !strings.Contains(err.Error(), "sparse") {
		t.Fatalf("err = %v, want ErrBadEntry (sparse)", err)
	}
}

// sparseArchive is an archive whose second entry is a PAX sparse file of
// 4 GiB of holes, written in a few hundred bytes.
func sparseArchive() []byte {
	es := validEntries()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: es[0].name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(es[0].data)), Format: tar.FormatPAX})
	tw.Write(es[0].data)
	tw.Flush()
	// archive/tar does not write GNU sparse records: write the PAX
	// extended header by hand, as GNU tar --sparse --format=pax does.
	var recs []byte
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", "tables/run.parquet"}, {"GNU.sparse.realsize", "4294967296"}} {
		recs = append(recs, paxRecord(kv[0], kv[1])...)
	}
	buf.Write(ustarBlock("PaxHeaders/run.parquet", 'x', len(recs)))
	buf.Write(recs)
	buf.Write(make([]byte, 511-(len(recs)+511)%512))
	sparseMap := []byte("1\n4294967295\n1\n")
	data := append(append(sparseMap, make([]byte, 512-len(sparseMap))...), 'x')
	tw2 := tar.NewWriter(&buf)
	tw2.WriteHeader(&tar.Header{Name: "tables/GNUSparseFile.0/run.parquet", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), Format: tar.FormatUSTAR})
	tw2.Write(data)
	tw2.Close()
	var out bytes.Buffer
	enc, _ := zstd.NewWriter(&out)
	enc.Write(buf.Bytes())
	enc.Close()
	return out.Bytes()
}

// paxRecord formats one PAX extended header record ("len key=value\n").
func paxRecord(k, v string) []byte {
	rest := " " + k + "=" + v + "\n"
	n := len(rest) + 1
	for len(strconv.Itoa(n))+len(rest) != n {
		n++
	}
	return []byte(strconv.Itoa(n) + rest)
}

// ustarBlock is a USTAR header block for an entry of the type and size.
func ustarBlock(name string, typ byte, size int) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = typ
	copy(b[257:], "ustar\x0000")
	copy(b[148:156], "        ")
	var sum int
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func TestParseBudget(t *testing.T) {
	l, err := archive.ParseBudget("rows=50M, tables=32GiB")
	if err != nil {
		t.Fatal(err)
	}
	if l.MaxRows != 50e6 || l.MaxTableBytes != 32<<30 || l.MaxEntryBytes != archive.DefaultMaxEntryBytes {
		t.Fatalf("got %+v", l)
	}
	back, err := archive.ParseBudget(l.String())
	if err != nil || back != l {
		t.Fatalf("String %q reads back as %+v, %v", l.String(), back, err)
	}
	for _, bad := range []string{"rows", "bogus=1", "rows=-1", "rows=0", "rows=1X", "rows=99999999T"} {
		if _, err := archive.ParseBudget(bad); err == nil {
			t.Errorf("ParseBudget(%q) accepted", bad)
		}
	}
}

// A folder given where an archive is expected (sync archives/) says which
// files to give instead, not only that it is not a regular file.
func TestOpen_FolderNamesItsArchives(t *testing.T) {
	dir := t.TempDir()
	_, err := archive.Open(context.Background(), dir)
	if !errors.Is(err, archive.ErrNotArchive) || !strings.Contains(err.Error(), filepath.Join(dir, "*.tar.zst")) {
		t.Fatalf("err = %v, want ErrNotArchive naming %s", err, filepath.Join(dir, "*.tar.zst"))
	}
}
