package comet_test

import (
	"archive/zip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

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
				arch = synctest.Capture(t, synctest.PinnedCopy(t, tc.name))
			case "detect-weights":
				arch = synctest.Capture(t, synctest.Pin(t, synctest.WithWeights(t, "detect")))
			}
			got := zipText(t, writeZip(t, arch, t.TempDir()).Output)
			golden := filepath.Join("testdata", "golden", tc.name+".zip.txt")
			synctest.Golden(t, golden, got, *update)
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
