package schemas_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// TestMarkers_OnePlace: the marker names are written out only in
// markers.go; capture (convert/) and replay (sync/) use the constants, so
// the two cannot disagree (issue 17).
func TestMarkers_OnePlace(t *testing.T) {
	markers := []string{schemas.MarkerRunID, schemas.MarkerArchive, schemas.MarkerGaps, schemas.MarkerFinal, schemas.TagRunID}
	for _, dir := range []string{"../convert", "../sync", "../cmd"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range markers {
				if strings.Contains(string(src), strconv.Quote(m)) {
					t.Errorf("%s: writes out the marker %q: use its constant from schemas/markers.go", p, m)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
