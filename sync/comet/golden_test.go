package comet_test

import (
	"archive/zip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

// pinnedCopy copies a fixture run into a temporary directory with every
// file's modification time set to one fixed instant (pin), so that a
// capture of it (whose times come from the files) is the same on every
// checkout.
func pinnedCopy(t *testing.T, run string) string {
	t.Helper()
	src := filepath.Join(synctest.Fixtures(), run)
	dst := filepath.Join(t.TempDir(), run)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o777)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, b, 0o666); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pin(t, dst)
}

// pin sets the modification time of every file under dir to one fixed
// instant and returns dir.
func pin(t *testing.T, dir string) string {
	t.Helper()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(p, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// zipText renders an offline zip for a golden file: experiment.json and
// messages.json whole, then each payload file's name, size and sha256, in
// the zip's order.
func zipText(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch f.Name {
		case "experiment.json", "messages.json":
			fmt.Fprintf(&b, "== %s (%s)\n%s\n", f.Name, methodName(f.Method), data)
		default:
			fmt.Fprintf(&b, "== %s (%s) %d %x\n", f.Name, methodName(f.Method), len(data), sha256.Sum256(data))
		}
	}
	return b.String()
}

// TestOffline_Golden pins the bytes of the offline zips written for a
// run directory with predictions and masks, and for the stored archives
// of formats 1.0 and 1.2 (a Comet session: raw messages and its own
// uploads written back). Refactors of the writer must keep them.
func TestOffline_Golden(t *testing.T) {
	for _, tc := range []struct{ name, archive string }{
		{"segment-savejson", ""},
		{"detect-weights", ""},
		{"v1.0-detect", "../../testdata/archives/v1.0-detect.tar.zst"},
		{"v1.2-comet-yolov5", "../../testdata/archives/v1.2-comet-yolov5.tar.zst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arch := tc.archive
			switch tc.name {
			case "segment-savejson":
				arch = synctest.Capture(t, pinnedCopy(t, tc.name))
			case "detect-weights":
				arch = synctest.Capture(t, pin(t, synctest.WithWeights(t, "detect")))
			}
			got := zipText(t, writeZip(t, arch, t.TempDir()).Output)
			golden := filepath.Join("testdata", "golden", tc.name+".zip.txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o777); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("%s differs at line %d:\n got %s\nwant %s", golden, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("%s: %d lines, want %d", golden, len(gl), len(wl))
			}
		})
	}
}

func methodName(m uint16) string {
	switch m {
	case zip.Store:
		return "stored"
	case zip.Deflate:
		return "deflated"
	}
	return fmt.Sprint(m)
}
