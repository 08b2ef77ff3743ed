package export_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/convert/export"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// followChain writes the chain capture --follow writes for a training run
// of the given epochs, and returns its base name and the run directory.
func followChain(t *testing.T, name string, epochs int) (base, dir string) {
	t.Helper()
	tr := synctest.NewTraining(t, name, epochs)
	base = filepath.Join(t.TempDir(), name+".tar.zst")
	f, err := convert.NewFollower(context.Background(), tr.Dir, base, convert.FollowOptions{
		Capture: convert.Options{Workers: 1}, Now: tr.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; !f.Final(); i++ {
		if i > 1000 {
			t.Fatal("no final link")
		}
		if !tr.Done() {
			tr.Step()
		} else {
			tr.Wait(5 * time.Second)
		}
		if _, err := f.Step(context.Background()); err != nil && !errors.Is(err, convert.ErrNotReady) {
			t.Fatal(err)
		}
	}
	return base, tr.Dir
}

func readParquet[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := parquet.Read[T](f, mustSize(t, f))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestExport_Chain: a chain exports as one run, its links merged, as sync
// replays it: given by any link or by its base name, a 3-epoch chain
// exports the 3 epochs, the same tables as its compaction.
func TestExport_Chain(t *testing.T) {
	base, _ := followChain(t, "chain", 3)
	links, _, err := chain.Files(base)
	if err != nil || len(links) < 3 {
		t.Fatalf("%d links (%v)", len(links), err)
	}
	compact := filepath.Join(t.TempDir(), "compact.tar.zst")
	if _, err := convert.Compact(context.Background(), base, compact, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	wantDir := t.TempDir()
	want, err := export.Export(context.Background(), compact, wantDir, export.Parquet)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{links[0], links[len(links)-1], base} {
		dir := t.TempDir()
		res, err := export.Export(context.Background(), p, dir, export.Parquet)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		if res.RunID != want.RunID || !reflect.DeepEqual(res.Rows, want.Rows) {
			t.Errorf("%s: run %s rows %v; the compaction: run %s rows %v", filepath.Base(p), res.RunID, res.Rows, want.RunID, want.Rows)
		}
		sc := readParquet[export.Scalar](t, filepath.Join(dir, export.Path(export.Parquet, schemas.TableScalars, res.RunID)))
		epochs := map[int64]bool{}
		for _, s := range sc {
			epochs[s.Epoch] = true
		}
		if len(epochs) != 3 {
			t.Errorf("%s: scalars of %d epochs, want 3", filepath.Base(p), len(epochs))
		}
		for _, table := range schemas.Tables {
			got, _ := os.ReadFile(filepath.Join(dir, export.Path(export.Parquet, table, res.RunID)))
			w, _ := os.ReadFile(filepath.Join(wantDir, export.Path(export.Parquet, table, want.RunID)))
			if string(got) != string(w) {
				t.Errorf("%s: table %s differs from the compaction's export", filepath.Base(p), table)
			}
		}
	}
}

// TestExport_BrokenChain: links that do not form one chain (a link of
// another capture put in place of link 1) export nothing, and the error
// names the link at fault.
func TestExport_BrokenChain(t *testing.T) {
	base, _ := followChain(t, "one", 3)
	other, _ := followChain(t, "two", 3)
	otherLinks, _, _ := chain.Files(other)
	data, err := os.ReadFile(otherLinks[1])
	if err != nil {
		t.Fatal(err)
	}
	wrong := chain.LinkPath(base, 1)
	os.WriteFile(wrong, data, 0o644)
	out := t.TempDir()
	_, err = export.Export(context.Background(), chain.LinkPath(base, 0), out, export.Parquet)
	if err == nil || !errors.Is(err, chain.ErrBroken) || !strings.Contains(err.Error(), wrong) {
		t.Errorf("export of a broken chain: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed export left %d entries", len(entries))
	}

	// Link 1 missing: link 0 exports, and the links after the gap are
	// named in a warning, as sync names them.
	os.Remove(wrong)
	res, err := export.Export(context.Background(), chain.LinkPath(base, 0), out, export.Parquet)
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "link 1 of the chain is missing") {
		t.Errorf("export of a chain without link 1: %+v, %v", res, err)
	}
}
