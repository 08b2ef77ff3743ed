package chain_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/schemas"
)

const runA = "0123456789abcdef0123456789abcdef"

func i64(v int64) *int64 { return &v }

// writeLink writes a link with the given scalars and returns its digest.
func writeLink(t *testing.T, path, runID string, link *schemas.ChainLink, status string, scalars ...schemas.ScalarRow) string {
	t.Helper()
	w, err := archive.Create(path, schemas.Header{RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, Writer: "test",
		Tables: []string{schemas.TableRun, schemas.TableScalars}, Chain: link}, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	row := schemas.RunRow{RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, Status: status, EpochsCompleted: int64(len(scalars))}
	if err := archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{row}); err != nil {
		t.Fatal(err)
	}
	if err := archive.WriteRows(w, schemas.TableScalars, scalars); err != nil {
		t.Fatal(err)
	}
	_, digest, err := w.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

func pt(metric string, epoch int64, v float64) schemas.ScalarRow {
	return schemas.ScalarRow{Metric: metric, Epoch: epoch, Value: v, Origin: "results.csv"}
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		base string
		seq  int
		link string
	}{
		{"out/run.tar.zst", 0, "out/run.000.tar.zst"},
		{"run.tar.zst", 12, "run.012.tar.zst"},
		{"a.b/exp-1.tar.zst", 1234, "a.b/exp-1.1234.tar.zst"},
	} {
		if got := chain.LinkPath(c.base, c.seq); got != c.link {
			t.Errorf("LinkPath(%q, %d) = %q, want %q", c.base, c.seq, got, c.link)
		}
		base, seq, ok := chain.SplitLink(c.link)
		if !ok || seq != c.seq || base != filepath.Clean(c.base) {
			t.Errorf("SplitLink(%q) = %q, %d, %v", c.link, base, seq, ok)
		}
	}
	for _, p := range []string{"run.tar.zst", "run.12.tar.zst", "run.000.tar.gz", ".run.000.tar.zst.123.tmp", "run.abc.tar.zst"} {
		if _, _, ok := chain.SplitLink(p); ok {
			t.Errorf("SplitLink(%q) accepted a non-link", p)
		}
	}
}

// TestChain_OpenMerge writes three links, a resumed epoch among them, and
// checks the merged tables: later rows win in place, new ones are
// appended, and the last run row stands.
func TestChain_OpenMerge(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "run.tar.zst")
	d0 := writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning, pt("loss", 1, 0.9), pt("loss", 2, 0.8))
	d1 := writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 1, Prev: d0}, schemas.StatusRunning, pt("loss", 2, 0.7), pt("loss", 3, math.NaN()))
	writeLink(t, chain.LinkPath(base, 2), runA, &schemas.ChainLink{Seq: 2, Prev: d1, Final: true}, schemas.StatusFinished, pt("loss", 4, 0.5))
	// A link being written is invisible; one after a gap is an orphan.
	os.WriteFile(filepath.Join(dir, ".run.003.tar.zst.42.tmp"), []byte("x"), 0o644)
	os.WriteFile(chain.LinkPath(base, 5), []byte("x"), 0o644)

	c, err := chain.Open(context.Background(), chain.LinkPath(base, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Links) != 3 || !c.Final() || c.RunID() != runA || len(c.Orphans) != 1 {
		t.Fatalf("%d links, final %v, orphans %v", len(c.Links), c.Final(), c.Orphans)
	}
	m, err := c.Merged(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range m.Scalars {
		got = append(got, s.Metric+"@"+strconv.FormatInt(s.Epoch, 10)+"="+strconv.FormatFloat(s.Value, 'g', -1, 64))
	}
	if want := "loss@1=0.9 loss@2=0.7 loss@3=NaN loss@4=0.5"; strings.Join(got, " ") != want {
		t.Errorf("merged scalars %q, want %q", strings.Join(got, " "), want)
	}
	if m.Info.Status != schemas.StatusFinished {
		t.Errorf("merged status %s", m.Info.Status)
	}
	if p, _ := c.Merged(context.Background(), 1); len(p.Scalars) != 2 || p.Scalars[1].Value != 0.8 || p.Info.Status != schemas.StatusRunning {
		t.Errorf("first link alone: %+v", p)
	}
	// With its final chain given too, a complete archive of the same run
	// is skipped, with a note; another archive is kept.
	writeLink(t, base, runA, nil, schemas.StatusRunning)
	other := filepath.Join(dir, "other.tar.zst")
	writeLink(t, other, strings.Repeat("e", 32), nil, schemas.StatusFinished)
	got, notes := chain.Group([]string{chain.LinkPath(base, 2), base, other, chain.LinkPath(base, 0)})
	if !reflect.DeepEqual(got, []string{chain.LinkPath(base, 2), other}) || len(notes) != 1 || !strings.Contains(notes[0], "run.tar.zst: skipped: it holds run") {
		t.Errorf("Group: %v, notes %v", got, notes)
	}
}

// TestChain_Broken: each way a chain can be wrong is an error naming the
// link and saying what to do.
func TestChain_Broken(t *testing.T) {
	cases := map[string]func(base string){
		"wrong predecessor": func(base string) {
			writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning)
			writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 1, Prev: strings.Repeat("ab", 32)}, schemas.StatusRunning)
		},
		"another run": func(base string) {
			d := writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning)
			writeLink(t, chain.LinkPath(base, 1), strings.Repeat("f", 32), &schemas.ChainLink{Seq: 1, Prev: d}, schemas.StatusRunning)
		},
		"after the final link": func(base string) {
			d := writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0, Final: true}, schemas.StatusFinished)
			writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 1, Prev: d}, schemas.StatusRunning)
		},
		"a complete archive": func(base string) {
			writeLink(t, chain.LinkPath(base, 0), runA, nil, schemas.StatusFinished)
		},
		"misnumbered": func(base string) {
			writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning)
			writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning)
		},
	}
	for name, write := range cases {
		base := filepath.Join(t.TempDir(), "run.tar.zst")
		write(base)
		c, err := chain.Open(context.Background(), base)
		if err == nil {
			c.Close()
			t.Errorf("%s: opened", name)
			continue
		}
		if !errors.Is(err, chain.ErrBroken) || !strings.Contains(err.Error(), "run.0") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := chain.Open(context.Background(), filepath.Join(t.TempDir(), "none.tar.zst")); err == nil || !strings.Contains(err.Error(), "no chain links") {
		t.Errorf("no links: %v", err)
	}
}

// TestDiff: a delta holds exactly the new and changed rows; NaN equals
// NaN, times compare at the tables' millisecond precision, and applying
// the delta gives the new tables.
func TestDiff(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	at2 := at.Add(300 * time.Microsecond) // the same millisecond
	have := &archive.Tables{Scalars: []schemas.ScalarRow{pt("a", 1, math.NaN()), pt("a", 2, 1), {Metric: "t", Epoch: 1, WallTime: &at, Step: i64(5)}}}
	now := &archive.Tables{Scalars: []schemas.ScalarRow{pt("a", 1, math.NaN()), pt("a", 2, 2), pt("a", 3, 3), {Metric: "t", Epoch: 1, WallTime: &at2, Step: i64(5)}}}
	d := chain.Diff(have, now)
	if len(d.Scalars) != 2 || d.Scalars[0].Value != 2 || d.Scalars[1].Epoch != 3 {
		t.Fatalf("delta %+v", d.Scalars)
	}
	if chain.Changes(now, chain.Diff(now, now)) {
		t.Error("a table compared with itself changes")
	}
	chain.Apply(have, d)
	if len(have.Scalars) != 4 || have.Scalars[1].Value != 2 || have.Scalars[3].Epoch != 3 {
		t.Errorf("applied: %+v", have.Scalars)
	}
}

// TestGroup_UnfinishedChain: a complete archive of a run whose chain has
// no final link yet is at least as recent: the chain is skipped for it.
func TestGroup_UnfinishedChain(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "run.tar.zst")
	d0 := writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning)
	writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 1, Prev: d0}, schemas.StatusRunning)
	full := filepath.Join(dir, "run-full.tar.zst")
	writeLink(t, full, runA, nil, schemas.StatusFinished)
	got, notes := chain.Group([]string{chain.LinkPath(base, 0), chain.LinkPath(base, 1), full})
	if !reflect.DeepEqual(got, []string{full}) || len(notes) != 1 || !strings.Contains(notes[0], "has no final link yet") {
		t.Errorf("Group: %v, notes %v", got, notes)
	}
}

// TestResolve: a chain is named by its base name (no file of its own,
// links beside it) or by a link, and resolves to its base name and links;
// a complete archive, a missing file and orphans alone are not chains; two
// files for one link, or a link renamed so that its name no longer says
// its number, are errors naming the file.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "run.tar.zst")
	d0 := writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning)
	writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 1, Prev: d0}, schemas.StatusRunning)
	links := []string{chain.LinkPath(base, 0), chain.LinkPath(base, 1)}
	full := filepath.Join(dir, "full.tar.zst")
	writeLink(t, full, runA, nil, schemas.StatusFinished)
	orphanBase := filepath.Join(dir, "orphan.tar.zst")
	writeLink(t, chain.LinkPath(orphanBase, 2), runA, &schemas.ChainLink{Seq: 2, Prev: d0}, schemas.StatusRunning)
	none := filepath.Join(dir, "none.tar.zst")
	for _, tc := range []struct {
		name, path string
		want       chain.Target
	}{
		{"base name", base, chain.Target{Path: base, Chain: true, Links: links}},
		{"link", links[1], chain.Target{Path: base, Chain: true, Links: links}},
		{"complete archive", full, chain.Target{Path: full}},
		{"missing", none, chain.Target{Path: none}},
		{"orphans alone", orphanBase, chain.Target{Path: orphanBase}},
		{"orphan link", chain.LinkPath(orphanBase, 2), chain.Target{Path: orphanBase, Chain: true, Orphans: []string{chain.LinkPath(orphanBase, 2)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chain.Resolve(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Resolve(%s) = %+v, want %+v", filepath.Base(tc.path), got, tc.want)
			}
		})
	}
	t.Run("renamed link", func(t *testing.T) {
		odd := filepath.Join(dir, "renamed.tar.zst")
		writeLink(t, odd, runA, &schemas.ChainLink{Seq: 3, Prev: d0}, schemas.StatusRunning)
		_, err := chain.Resolve(odd)
		if !errors.Is(err, chain.ErrBroken) || !strings.Contains(err.Error(), odd) || !strings.Contains(err.Error(), "renamed.003.tar.zst") {
			t.Errorf("err = %v, want ErrBroken naming %s and its link name", err, odd)
		}
	})
	t.Run("two files for one link", func(t *testing.T) {
		dup := filepath.Join(dir, "run.0001.tar.zst")
		writeLink(t, dup, runA, &schemas.ChainLink{Seq: 1, Prev: d0}, schemas.StatusRunning)
		defer os.Remove(dup)
		_, err := chain.Resolve(base)
		if !errors.Is(err, chain.ErrBroken) || !strings.Contains(err.Error(), "two files for link 1") {
			t.Errorf("err = %v, want ErrBroken: two files for link 1", err)
		}
	})
}

// TestGroup_BaseName: a chain named by its base name (no file of its own)
// is grouped as its links are.
func TestGroup_BaseName(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "run.tar.zst")
	d0 := writeLink(t, chain.LinkPath(base, 0), runA, &schemas.ChainLink{Seq: 0}, schemas.StatusRunning)
	writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 1, Prev: d0, Final: true}, schemas.StatusFinished)
	full := filepath.Join(dir, "run-full.tar.zst")
	writeLink(t, full, runA, nil, schemas.StatusFinished)
	got, notes := chain.Group([]string{full, base, chain.LinkPath(base, 1)})
	if !reflect.DeepEqual(got, []string{base}) || len(notes) != 1 || !strings.Contains(notes[0], "run-full.tar.zst: skipped") {
		t.Errorf("Group: %v, notes %v", got, notes)
	}
}
