package restore_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/convert/restore"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

const (
	fixtures  = "../../testdata/ultralytics-8.3.166"
	githubDir = "../../testdata/github-runs/public"
)

// fixtureDirs lists every run directory of testdata: the genuine 8.3.166
// runs (with the dataset they trained on) and the public GitHub runs.
func fixtureDirs(t *testing.T) (dirs []string, data map[string]string) {
	t.Helper()
	data = map[string]string{
		"detect":           "datasets/detect/data.yaml",
		"detect-savejson":  "datasets/detect/data.yaml",
		"detect-clearml":   "datasets/detect/data.yaml",
		"segment-savejson": "datasets/segment/data.yaml",
		"segment-val":      "datasets/segment/data.yaml",
	}
	for _, base := range []string{fixtures, githubDir} {
		ents, err := os.ReadDir(base)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			// datasets/ and the fbuljan labels folder are datasets the
			// runs read, not runs.
			if e.IsDir() && e.Name() != "datasets" && !strings.HasSuffix(e.Name(), "__labels__test") {
				dirs = append(dirs, filepath.Join(base, e.Name()))
			}
		}
	}
	// A ClearML offline session restores as its folder.
	dirs = append(dirs, filepath.Join(fixtures, "detect-clearml/clearml_offline_session/offline-65072dc9b8014849a4dc396a0eb301ec"))
	if len(dirs) < 30 {
		t.Fatalf("only %d fixture runs found", len(dirs))
	}
	return dirs, data
}

// walk returns every regular file under dir by relative path.
func walk(t *testing.T, dir string) map[string]fs.FileInfo {
	t.Helper()
	out := map[string]fs.FileInfo{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			info, err := d.Info()
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = info
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func load(t *testing.T, p string) *archive.Tables {
	t.Helper()
	a, err := archive.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tb, err := archive.LoadTables(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestRoundTrip captures every fixture run, restores it, and checks that
// every stored file comes back byte for byte at its path, that nothing
// else is written, and that a capture of the restored directory gives the
// same tables.
func TestRoundTrip(t *testing.T) {
	dirs, data := fixtureDirs(t)
	ctx := context.Background()
	for _, src := range dirs {
		name := filepath.Base(src)
		t.Run(name, func(t *testing.T) {
			opts := convert.Options{Workers: 1}
			if d := data[name]; d != "" {
				opts.Data = filepath.Join(fixtures, d)
			}
			tmp := t.TempDir()
			arch := filepath.Join(tmp, "a.tar.zst")
			if _, err := convert.Capture(ctx, src, arch, opts); err != nil {
				t.Fatal(err)
			}
			orig := load(t, arch)
			dst := filepath.Join(tmp, "out", name) // the same base name: run.source_name
			res, err := restore.Restore(ctx, arch, dst, restore.Options{})
			if err != nil {
				t.Fatal(err)
			}

			// Every stored file of the run directory, byte for byte.
			stored := map[string]bool{}
			for _, im := range orig.Images {
				if im.Blob != "" && im.Role != schemas.RoleDatasetImage {
					stored[im.FileName] = true
				}
			}
			for _, as := range orig.Assets {
				if as.Blob != "" {
					stored[as.FileName] = true
				}
			}
			before, after := walk(t, src), walk(t, dst)
			if res.Files != len(after) {
				t.Errorf("result says %d files, %d written", res.Files, len(after))
			}
			for rel := range after {
				if _, ok := before[rel]; !ok {
					t.Errorf("%s: restored, but not in the original", rel)
				}
			}
			for rel := range stored {
				if _, ok := after[rel]; !ok {
					t.Errorf("%s: stored but not restored", rel)
					continue
				}
				a, err := os.ReadFile(filepath.Join(src, rel))
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(dst, rel))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s: restored bytes differ from the original", rel)
				}
			}
			// Files of the original the archive does not store are each
			// accounted for by a gap.
			for rel := range before {
				if _, ok := after[rel]; !ok && !explained(rel, res.Gaps, orig.Gaps) {
					t.Errorf("%s: in the original, not restored, and no gap says why", rel)
				}
			}
			// Times: every restored file of a run directory has its
			// original's modification time, to the nanosecond (format
			// 1.4), and no mtime gap. A session's files do not store it.
			session := orig.Info.SourceKind == schemas.SourceClearMLOffline || orig.Info.SourceKind == schemas.SourceCometOffline
			for rel, info := range after {
				if o, ok := before[rel]; ok && !session && !info.ModTime().Equal(o.ModTime()) {
					t.Errorf("%s: mtime %v, original %v", rel, info.ModTime(), o.ModTime())
				}
			}
			for _, g := range res.Gaps {
				if g.Item == "mtime" && !session {
					t.Errorf("mtime gap on a 1.4 archive: %s", g.Reason)
				}
			}

			// A capture of the restored directory gives the same tables.
			arch2 := filepath.Join(tmp, "b.tar.zst")
			if _, err := convert.Capture(ctx, dst, arch2, opts); err != nil {
				t.Fatal(err)
			}
			again := load(t, arch2)
			normalizePaths(orig, src)
			normalizePaths(again, dst)
			compareTables(t, orig, again)
		})
	}
}

// explained reports whether a gap accounts for a file the restore did
// not write.
func explained(rel string, gaps ...[]schemas.GapRow) bool {
	for _, gs := range gaps {
		for _, g := range gs {
			if strings.Contains(g.Reason, rel) || strings.Contains(g.Reason, filepath.Base(rel)) {
				return true
			}
		}
	}
	return false
}

// normalizePaths replaces the captured directory's path in texts that name
// it (a dataset not found, tried relative to the run directory).
func normalizePaths(tb *archive.Tables, dir string) {
	abs, _ := filepath.Abs(dir)
	repl := strings.NewReplacer(abs, "RUNDIR", dir, "RUNDIR")
	for i := range tb.Gaps {
		tb.Gaps[i].Reason = repl.Replace(tb.Gaps[i].Reason)
		tb.Gaps[i].Hint = repl.Replace(tb.Gaps[i].Hint)
	}
	for i, e := range tb.Info.VersionEvidence {
		tb.Info.VersionEvidence[i] = repl.Replace(e)
	}
}

func compareTables(t *testing.T, a, b *archive.Tables) {
	t.Helper()
	if !reflect.DeepEqual(a.Info, b.Info) {
		t.Errorf("run rows differ:\n orig %+v\n back %+v", a.Info, b.Info)
	}
	check := func(name string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s rows differ", name)
		}
	}
	check("scalars", nanScalars(a.Scalars), nanScalars(b.Scalars))
	check("params", a.Params, b.Params)
	check("summary", nanSummary(a.Summary), nanSummary(b.Summary))
	check("images", a.Images, b.Images)
	check("annotations", len(a.Annotations), len(b.Annotations))
	if len(a.Annotations) == len(b.Annotations) {
		for i := range a.Annotations {
			if !reflect.DeepEqual(a.Annotations[i], b.Annotations[i]) {
				t.Errorf("annotation %d differs", i)
				break
			}
		}
	}
	check("assets", a.Assets, b.Assets)
	if !reflect.DeepEqual(a.Gaps, b.Gaps) {
		t.Errorf("gaps differ:\n orig %+v\n back %+v", a.Gaps, b.Gaps)
	}
	check("logs", a.Logs, b.Logs)
}

// nanScalars and nanSummary replace NaN values (which never compare
// equal) with a sentinel.
func nanScalars(rows []schemas.ScalarRow) []schemas.ScalarRow {
	out := append([]schemas.ScalarRow(nil), rows...)
	for i := range out {
		if math.IsNaN(out[i].Value) {
			out[i].Value = nanSentinel
		}
	}
	return out
}

func nanSummary(rows []schemas.SummaryRow) []schemas.SummaryRow {
	out := append([]schemas.SummaryRow(nil), rows...)
	for i := range out {
		if math.IsNaN(out[i].Value) {
			out[i].Value = nanSentinel
		}
	}
	return out
}

const nanSentinel = -1.234567e300

// TestChain restores a chain written while a run trained as one run: the
// same files and times as the restore of one capture of the finished run.
func TestChain(t *testing.T) {
	tr := synctest.NewTraining(t, "chain", 3)
	base := filepath.Join(t.TempDir(), "run.tar.zst")
	ctx := context.Background()
	f, err := convert.NewFollower(ctx, tr.Dir, base, convert.FollowOptions{Capture: convert.Options{Workers: 1}, Now: tr.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; !f.Final(); i++ {
		if i > 500 {
			t.Fatal("no final link")
		}
		if !tr.Done() {
			tr.Step()
		} else {
			tr.Wait(5 * time.Second)
		}
		if _, err := f.Step(ctx); err != nil && !errors.Is(err, convert.ErrNotReady) {
			t.Fatal(err)
		}
	}
	if f.Links() < 3 {
		t.Fatalf("%d links", f.Links())
	}
	tmp := t.TempDir()
	one := filepath.Join(tmp, "one.tar.zst")
	if _, err := convert.Capture(ctx, tr.Dir, one, convert.Options{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	fromChain, fromOne := filepath.Join(tmp, "c", "chain"), filepath.Join(tmp, "o", "chain")
	res, err := restore.Restore(ctx, chain.LinkPath(base, 1), fromChain, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Links != f.Links() || res.Archive != base {
		t.Errorf("restored %s with %d links, want %s with %d", res.Archive, res.Links, base, f.Links())
	}
	if _, err := restore.Restore(ctx, one, fromOne, restore.Options{}); err != nil {
		t.Fatal(err)
	}
	a, b := walk(t, fromChain), walk(t, fromOne)
	if len(a) != len(b) || len(a) == 0 {
		t.Errorf("chain restored %d files, one capture %d", len(a), len(b))
	}
	for rel, ia := range a {
		ib, ok := b[rel]
		if !ok {
			t.Errorf("%s: restored from the chain only", rel)
			continue
		}
		x, _ := os.ReadFile(filepath.Join(fromChain, rel))
		y, _ := os.ReadFile(filepath.Join(fromOne, rel))
		if !bytes.Equal(x, y) || !ia.ModTime().Equal(ib.ModTime()) {
			t.Errorf("%s: differs between the chain's restore and the capture's", rel)
		}
	}
}

// fixtureArchive captures the detect fixture once.
func fixtureArchive(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "detect.tar.zst")
	if _, err := convert.Capture(context.Background(), filepath.Join(fixtures, "detect"), p,
		convert.Options{Workers: 1, Data: filepath.Join(fixtures, "datasets/detect/data.yaml")}); err != nil {
		t.Fatal(err)
	}
	return p
}

// leftovers returns the names in dir other than keep: scratch files a
// failed restore must not leave.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !slices.Contains(keep, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestDestination(t *testing.T) {
	arch := fixtureArchive(t)
	ctx := context.Background()

	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "target")
		os.Mkdir(target, 0o755)
		link := filepath.Join(dir, "link")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		_, err := restore.Restore(ctx, arch, link, restore.Options{Overwrite: true})
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("restore into a symlink: %v", err)
		}
		if n := leftovers(t, target); len(n) > 0 {
			t.Errorf("wrote through the link: %v", n)
		}
		if n := leftovers(t, dir, "target", "link"); len(n) > 0 {
			t.Errorf("left %v", n)
		}
	})

	t.Run("not empty", func(t *testing.T) {
		dir := t.TempDir()
		dst := filepath.Join(dir, "run")
		os.Mkdir(dst, 0o755)
		os.WriteFile(filepath.Join(dst, "mine.txt"), []byte("keep me"), 0o644)
		_, err := restore.Restore(ctx, arch, dst, restore.Options{})
		if !errors.Is(err, restore.ErrNotEmpty) {
			t.Fatalf("restore into a non-empty directory: %v", err)
		}
		if n := leftovers(t, dst, "mine.txt"); len(n) > 0 {
			t.Errorf("wrote %v", n)
		}
		// --overwrite replaces it whole.
		res, err := restore.Restore(ctx, arch, dst, restore.Options{Overwrite: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dst, "mine.txt")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the old directory's file is still there: %v", err)
		}
		if got := len(walk(t, dst)); got != res.Files || got == 0 {
			t.Errorf("%d files, result says %d", got, res.Files)
		}
		if n := leftovers(t, dir, "run"); len(n) > 0 {
			t.Errorf("left %v", n)
		}
	})

	t.Run("empty and missing", func(t *testing.T) {
		dir := t.TempDir()
		empty := filepath.Join(dir, "empty")
		os.Mkdir(empty, 0o755)
		if _, err := restore.Restore(ctx, arch, empty, restore.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := restore.Restore(ctx, arch, filepath.Join(dir, "a", "b"), restore.Options{}); err != nil {
			t.Fatal(err)
		}
		if n := leftovers(t, dir, "empty", "a"); len(n) > 0 {
			t.Errorf("left %v", n)
		}
	})

	t.Run("a file", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f")
		os.WriteFile(p, nil, 0o644)
		if _, err := restore.Restore(ctx, arch, p, restore.Options{Overwrite: true}); err == nil {
			t.Fatal("restored over a file")
		}
	})

	t.Run("dot", func(t *testing.T) {
		for _, d := range []string{".", "..", "/", "a/.."} {
			if _, err := restore.Restore(ctx, arch, d, restore.Options{Overwrite: true}); err == nil || !strings.Contains(err.Error(), "new directory") {
				t.Errorf("%s: %v", d, err)
			}
		}
		// DIR/. is DIR.
		d := t.TempDir()
		if _, err := restore.Restore(ctx, arch, d+"/.", restore.Options{}); err != nil {
			t.Errorf("%s/.: %v", d, err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		dir := t.TempDir()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := restore.Restore(cctx, arch, filepath.Join(dir, "run"), restore.Options{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled restore: %v", err)
		}
		if n := leftovers(t, dir); len(n) > 0 {
			t.Errorf("left %v", n)
		}
	})
}

// TestHostileNames refuses an archive whose tables name a file outside
// the run directory, or one file as a directory, and writes nothing.
func TestHostileNames(t *testing.T) {
	for _, tc := range []struct{ names []string }{
		{[]string{"../evil.txt"}},
		{[]string{"/etc/evil.txt"}},
		{[]string{"a/../../evil.txt"}},
		{[]string{`..\evil.txt`}},
		{[]string{"weights", "weights/best.pt"}},
	} {
		dir := t.TempDir()
		blob := filepath.Join(dir, "blob")
		os.WriteFile(blob, []byte("x"), 0o644)
		sum, err := archive.HashFile(blob)
		if err != nil {
			t.Fatal(err)
		}
		var assets []schemas.AssetRow
		for _, n := range tc.names {
			assets = append(assets, schemas.AssetRow{Blob: sum.SHA256, Role: schemas.RoleOther, FileName: n, Size: 1})
		}
		arch := filepath.Join(dir, "a.tar.zst")
		w, err := archive.Create(arch, schemas.Header{RunID: "00112233445566778899aabbccddeeff",
			SourceKind: schemas.SourceUltralyticsTrain, Writer: "test",
			Tables: []string{schemas.TableRun, schemas.TableAssets}}, archive.Options{})
		if err != nil {
			t.Fatal(err)
		}
		archive.WriteRows(w, schemas.TableRun, []schemas.RunRow{{RunID: "00112233445566778899aabbccddeeff", SourceKind: schemas.SourceUltralyticsTrain}})
		archive.WriteRows(w, schemas.TableAssets, assets)
		w.AddFile(sum, blob)
		if _, _, err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out", "run")
		_, err = restore.Restore(context.Background(), arch, out, restore.Options{})
		if err == nil || !strings.Contains(err.Error(), "the archive is damaged") {
			t.Errorf("%v: %v", tc.names, err)
		}
		if n := leftovers(t, dir, "blob", "a.tar.zst"); len(n) > 0 {
			t.Errorf("%v: left %v", tc.names, n)
		}
	}
}

// TestOriginalTimes gives every file of copied fixture runs a distinct
// modification time with nanoseconds, captures and restores them: each
// restored file has its original's time exactly, the images and assets
// tables hold those times, and diff -r finds the trees equal.
func TestOriginalTimes(t *testing.T) {
	ctx := context.Background()
	for _, src := range []string{
		filepath.Join(fixtures, "detect"),
		filepath.Join(githubDir, "483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp"),
	} {
		name := filepath.Base(src)
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			run := filepath.Join(tmp, "src", name)
			if err := os.CopyFS(run, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			// Distinct, known times, out of name order, the settings
			// file neither the oldest nor the newest.
			base := time.Date(2023, 3, 14, 15, 9, 26, 535897932, time.UTC)
			want := map[string]time.Time{}
			i := 0
			for rel := range walk(t, run) {
				m := base.Add(time.Duration((i*7919)%1000)*time.Second + time.Duration(i)*123)
				if err := os.Chtimes(filepath.Join(run, filepath.FromSlash(rel)), m, m); err != nil {
					t.Fatal(err)
				}
				want[rel] = m
				i++
			}
			arch := filepath.Join(tmp, "a.tar.zst")
			if _, err := convert.Capture(ctx, run, arch, convert.Options{Workers: 1}); err != nil {
				t.Fatal(err)
			}
			tb := load(t, arch)
			rows := 0
			check := func(file string, m *time.Time) {
				if m == nil || !m.Equal(want[file]) {
					t.Errorf("table row %s: mtime %v, want %v", file, m, want[file])
				}
				rows++
			}
			for _, im := range tb.Images {
				if im.Role != schemas.RoleDatasetImage {
					check(im.FileName, im.MTime)
				}
			}
			for _, a := range tb.Assets {
				check(a.FileName, a.MTime)
			}
			if rows == 0 {
				t.Fatal("no image or asset rows")
			}
			dst := filepath.Join(tmp, "out", name)
			res, err := restore.Restore(ctx, arch, dst, restore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := walk(t, dst)
			if len(got) != len(want) {
				t.Errorf("restored %d files, the run has %d", len(got), len(want))
			}
			for rel, info := range got {
				if !info.ModTime().Equal(want[rel]) {
					t.Errorf("%s: mtime %v, original %v", rel, info.ModTime().UTC(), want[rel])
				}
			}
			for _, g := range res.Gaps {
				if g.Item == "mtime" {
					t.Errorf("mtime gap although every time is stored: %s", g.Reason)
				}
			}
			if out, err := exec.Command("diff", "-r", run, dst).CombinedOutput(); err != nil {
				t.Errorf("diff -r %s %s: %v\n%s", run, dst, err, out)
			}
		})
	}
}

// TestOldFormatTimes restores a format 1.0 archive, which stores no
// per-file times: files get the run's start and end times, as before
// format 1.4, and the mtime gap says so.
func TestOldFormatTimes(t *testing.T) {
	arch := "../../testdata/archives/v1.0-detect.tar.zst"
	tb := load(t, arch)
	for _, im := range tb.Images {
		if im.MTime != nil {
			t.Fatalf("%s: a 1.0 archive read with mtime %v", im.FileName, im.MTime)
		}
	}
	for _, a := range tb.Assets {
		if a.MTime != nil {
			t.Fatalf("%s: a 1.0 archive read with mtime %v", a.FileName, a.MTime)
		}
	}
	dst := filepath.Join(t.TempDir(), "detect")
	res, err := restore.Restore(context.Background(), arch, dst, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var gap *schemas.GapRow
	for i, g := range res.Gaps {
		if g.Item == "mtime" {
			gap = &res.Gaps[i]
		}
	}
	if gap == nil || !strings.Contains(gap.Reason, "not stored") {
		t.Fatalf("no mtime gap for a 1.0 archive: %+v", res.Gaps)
	}
	r := tb.Info
	if r.StartedAt == nil || r.EndedAt == nil {
		t.Fatal("the 1.0 archive has no run times")
	}
	files := walk(t, dst)
	if len(files) == 0 {
		t.Fatal("nothing restored")
	}
	for rel, info := range files {
		want := *r.EndedAt
		if rel == "args.yaml" {
			want = *r.StartedAt
		}
		if !info.ModTime().Equal(want) {
			t.Errorf("%s: mtime %v, want %v", rel, info.ModTime(), want)
		}
	}
}
