package clearmlsession_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// memSession copies the session folder src into memory.
func memSession(t *testing.T, src string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(src), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		f := &fstest.MapFile{Mode: info.Mode(), ModTime: info.ModTime()}
		if info.Mode().IsRegular() {
			if f.Data, err = fs.ReadFile(os.DirFS(src), p); err != nil {
				return err
			}
		}
		m[p] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReadFS_SameAsDisk: a session read from memory gives the run that
// reading its folder on disk gives, table for table, and the archive
// written from it holds the same blobs.
func TestReadFS_SameAsDisk(t *testing.T) {
	ctx := context.Background()
	disk, err := convert.Read(ctx, sessionFolder, convert.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer disk.Close()
	mem, err := convert.ReadFS(ctx, memSession(t, sessionFolder), sessionFolder, schemas.SourceClearMLOffline, convert.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if len(disk.Scalars) == 0 || len(disk.Images) == 0 || len(disk.Assets) == 0 {
		t.Fatalf("the fixture read from disk has %d scalars, %d images, %d assets", len(disk.Scalars), len(disk.Images), len(disk.Assets))
	}
	if !reflect.DeepEqual(mem.Tables, disk.Tables) {
		t.Errorf("tables differ:\nmemory %+v\ndisk   %+v", mem.Info, disk.Info)
	}
	if !reflect.DeepEqual(mem.Warnings, disk.Warnings) {
		t.Errorf("warnings = %q, want %q", mem.Warnings, disk.Warnings)
	}
}

// TestReadFS_LinksRefused: a link in a session held in memory is refused
// as on disk: task.json or metrics.jsonl as a link fails naming the
// file, a debug image behind a link (or under a folder that is one) is a
// gap (as on disk, a file that is a link is not in the session), never
// read.
func TestReadFS_LinksRefused(t *testing.T) {
	ctx := context.Background()
	link := func(target string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
	}
	for _, name := range []string{"task.json", "metrics.jsonl"} {
		t.Run(name, func(t *testing.T) {
			m := memSession(t, sessionFolder)
			m["real"] = m[name]
			m[name] = link("real")
			_, err := convert.ReadFS(ctx, m, sessionFolder, schemas.SourceClearMLOffline, convert.Options{})
			if err == nil || !strings.Contains(err.Error(), sessionFolder+"/"+name) || !strings.Contains(err.Error(), "a symbolic link, not followed") {
				t.Errorf("err = %v, want %s refused as a link", err, name)
			}
		})
	}
	t.Run("Images", func(t *testing.T) {
		m := memSession(t, sessionFolder)
		var img, dir string
		for p, f := range m {
			if strings.HasSuffix(p, "Mosaic_train.jpg_00000000.jpg") {
				img = p
			}
			if strings.HasSuffix(p, "/metrics/Validation") && f.Mode.IsDir() {
				dir = p
			}
		}
		if img == "" || dir == "" {
			t.Fatal("the fixture has no Mosaic image or Validation folder")
		}
		m["elsewhere.jpg"] = m[img]
		m[img] = link("/elsewhere.jpg")
		for p, f := range m { // the Validation folder becomes a link
			if strings.HasPrefix(p, dir+"/") {
				m["moved"+strings.TrimPrefix(p, dir)] = f
				delete(m, p)
			}
		}
		m[dir] = link("../../../moved")
		r, err := convert.ReadFS(ctx, m, sessionFolder, schemas.SourceClearMLOffline, convert.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, im := range r.Images {
			if im.Group == "Validation" || im.Group == "Mosaic" && im.Step != nil && *im.Step == 0 {
				t.Errorf("image %s/%s step %v read through a link", im.Group, im.Series, *im.Step)
			}
		}
		var gaps []string
		for _, g := range r.Gaps {
			if g.Item == schemas.GapSessionImage {
				gaps = append(gaps, g.Reason)
			}
		}
		if got := strings.Join(gaps, "\n"); strings.Count(got, `"Mosaic"/"train.jpg"`) != 1 || strings.Count(got, `"Validation"/`) != 2 {
			t.Errorf("image gaps:\n%s\nwant one for the Mosaic image behind a link and both Validation images", got)
		}
	})
}

// TestReadFS_NotASession: ReadFS reads ClearML and Comet sessions only.
func TestReadFS_NotASession(t *testing.T) {
	_, err := convert.ReadFS(context.Background(), fstest.MapFS{}, "x", schemas.SourceUltralyticsTrain, convert.Options{})
	if !errors.Is(err, convert.ErrNotRun) || !strings.HasPrefix(err.Error(), "x: ") {
		t.Errorf("err = %v, want ErrNotRun naming x", err)
	}
}
