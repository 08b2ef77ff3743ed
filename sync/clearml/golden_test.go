package clearml_test

import (
	"archive/zip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

var archiveDigest = regexp.MustCompile(`"yoloarchive_archive":"[0-9a-f]{64}"`)

var update = flag.Bool("update", false, "update golden files in testdata/")

// pin sets the modification time of every file under dir to one fixed
// instant and returns dir, so that a capture of it (whose times come from
// the files) is the same on every checkout.
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

// pinnedCopy copies a fixture run into a temporary directory and pins
// its files' times.
func pinnedCopy(t *testing.T, run string) string {
	t.Helper()
	src := filepath.Join(synctest.Fixtures(), run)
	dst := filepath.Join(t.TempDir(), run)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o777)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
	return pin(t, dst)
}

// sessionText renders a session zip for a golden file: task.json,
// metrics.jsonl and log.jsonl whole (the output directory, which differs
// from run to run, as OUT), then each data file's name, size and sha256.
// The archive digest of a run captured by the test is shown as ARCHIVE:
// it covers the dataset images' file times, which are the checkout's
// (a fresh clone gave another digest), and it is not the writer's to keep.
func sessionText(t *testing.T, path, out string) string {
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
		case "task.json", "metrics.jsonl", "log.jsonl":
			text := strings.ReplaceAll(string(data), filepath.ToSlash(out), "OUT")
			text = archiveDigest.ReplaceAllString(text, `"yoloarchive_archive":"ARCHIVE"`)
			fmt.Fprintf(&b, "== %s\n%s\n", f.Name, text)
		default:
			fmt.Fprintf(&b, "== %s %d %x\n", f.Name, len(data), sha256.Sum256(data))
		}
	}
	return b.String()
}

// TestOffline_Golden pins the bytes of the offline sessions written for a
// run directory with weights (an output model artifact), a ClearML
// session, and the stored archives of formats 1.0 and 1.2 (a Comet
// session). Refactors of the writer must keep them.
func TestOffline_Golden(t *testing.T) {
	for _, tc := range []struct{ name, archive string }{
		{"detect-weights", ""},
		{"detect-clearml", ""},
		{"v1.0-detect", "../../testdata/archives/v1.0-detect.tar.zst"},
		{"v1.2-comet-yolov5", "../../testdata/archives/v1.2-comet-yolov5.tar.zst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arch := tc.archive
			switch tc.name {
			case "detect-weights":
				arch = synctest.Capture(t, pin(t, synctest.WithWeights(t, "detect")))
			case "detect-clearml":
				arch = synctest.Capture(t, pinnedCopy(t, "detect-clearml"))
			}
			out := t.TempDir()
			res := writeOffline(t, arch, out, ysync.Options{})
			got := sessionText(t, res.Output, out)
			golden := filepath.Join("testdata", "golden", tc.name+".session.txt")
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
