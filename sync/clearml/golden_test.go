package clearml_test

import (
	"archive/zip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

var archiveDigest = regexp.MustCompile(`"yoloarchive_archive":"[0-9a-f]{64}"`)

var update = flag.Bool("update", false, "update golden files in testdata/")

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
				arch = synctest.Capture(t, synctest.Pin(t, synctest.WithWeights(t, "detect")))
			case "detect-clearml":
				arch = synctest.Capture(t, synctest.PinnedCopy(t, "detect-clearml"))
			}
			out := t.TempDir()
			res := writeOffline(t, arch, out, ysync.Options{})
			got := sessionText(t, res.Output, out)
			golden := filepath.Join("testdata", "golden", tc.name+".session.txt")
			synctest.Golden(t, golden, got, *update)
		})
	}
}
