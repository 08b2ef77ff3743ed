package convert_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// secret is what a file outside the run directory holds: it must reach
// no table of the archive.
const secret = "AKIAOUTSIDE-SECRET-0123456789"

// outside writes files outside the run directory a hostile run links to.
func outside(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "creds.yaml"), []byte("aws_secret_access_key: "+secret+"\ntask: detect\nmode: train\n"), 0o600)
	res, _ := os.ReadFile(filepath.Join(fixtures, "detect", "results.csv"))
	os.WriteFile(filepath.Join(dir, "results.csv"), res, 0o600)
	os.MkdirAll(filepath.Join(dir, "weights"), 0o755)
	ckpt, _ := os.ReadFile("../testdata/checkpoints/best.pt")
	os.WriteFile(filepath.Join(dir, "weights", "best.pt"), ckpt, 0o600)
	img, _ := os.ReadFile(filepath.Join(fixtures, "detect", "labels.jpg"))
	os.WriteFile(filepath.Join(dir, "photo.jpg"), img, 0o600)
	return dir
}

// TestCapture_LinksNotFollowed: a link in a run directory, to a file or a
// folder outside it or inside it, is a gap and its target is never read
// (issue 15: args.yaml linked to a credentials file reached the params
// table).
func TestCapture_LinksNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir, out string)
		check func(t *testing.T, a *archive.Archive)
	}{
		{"ArgsYAMLOutside", func(t *testing.T, dir, out string) {
			os.Remove(filepath.Join(dir, "args.yaml"))
			must(t, os.Symlink(filepath.Join(out, "creds.yaml"), filepath.Join(dir, "args.yaml")))
		}, func(t *testing.T, a *archive.Archive) {
			params, _ := archive.ReadTable[schemas.ParamRow](context.Background(), a, schemas.TableParams)
			if len(params) != 0 {
				t.Errorf("params = %v, want none (args.yaml is a link)", params)
			}
		}},
		{"ArgsYAMLInside", func(t *testing.T, dir, out string) {
			must(t, os.Rename(filepath.Join(dir, "args.yaml"), filepath.Join(dir, "real.yaml")))
			must(t, os.Symlink("real.yaml", filepath.Join(dir, "args.yaml")))
		}, func(t *testing.T, a *archive.Archive) {
			params, _ := archive.ReadTable[schemas.ParamRow](context.Background(), a, schemas.TableParams)
			if len(params) != 0 {
				t.Errorf("%d params, want none (args.yaml is a link, even to a file inside)", len(params))
			}
		}},
		{"ResultsCSVOutside", func(t *testing.T, dir, out string) {
			os.Remove(filepath.Join(dir, "results.csv"))
			must(t, os.Symlink(filepath.Join(out, "results.csv"), filepath.Join(dir, "results.csv")))
		}, func(t *testing.T, a *archive.Archive) {
			sc, _ := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
			if len(sc) != 0 {
				t.Errorf("%d scalars, want none (results.csv is a link)", len(sc))
			}
		}},
		{"WeightsFolderOutside", func(t *testing.T, dir, out string) {
			must(t, os.Symlink(filepath.Join(out, "weights"), filepath.Join(dir, "weights")))
		}, func(t *testing.T, a *archive.Archive) {
			assets, _ := archive.ReadTable[schemas.AssetRow](context.Background(), a, schemas.TableAssets)
			for _, as := range assets {
				if strings.HasPrefix(as.FileName, "weights/") {
					t.Errorf("asset %s stored through a linked folder", as.FileName)
				}
			}
		}},
		{"ImageOutside", func(t *testing.T, dir, out string) {
			must(t, os.Symlink(filepath.Join(out, "photo.jpg"), filepath.Join(dir, "photo.jpg")))
		}, func(t *testing.T, a *archive.Archive) {
			images, _ := archive.ReadTable[schemas.ImageRow](context.Background(), a, schemas.TableImages)
			for _, im := range images {
				if im.FileName == "photo.jpg" {
					t.Errorf("image %s stored through a link", im.FileName)
				}
			}
		}},
		{"LinkLoop", func(t *testing.T, dir, out string) {
			must(t, os.Symlink("loop", filepath.Join(dir, "loop")))
			must(t, os.Symlink(".", filepath.Join(dir, "self")))
		}, func(t *testing.T, a *archive.Archive) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := outside(t)
			dir := copyDir(t, filepath.Join(fixtures, "detect"))
			tc.setup(t, dir, out)
			_, a := capture(t, dir, convert.Options{})
			tc.check(t, a)
			params, _ := archive.ReadTable[schemas.ParamRow](context.Background(), a, schemas.TableParams)
			for _, p := range params {
				if strings.Contains(p.Text, secret) || strings.Contains(p.Key, "aws") {
					t.Errorf("param %s=%s read from outside the run", p.Key, p.Text)
				}
			}
			gaps, _ := archive.ReadTable[schemas.GapRow](context.Background(), a, schemas.TableGaps)
			var skipped string
			for _, g := range gaps {
				if g.Item == "skipped_files" {
					skipped = g.Reason
				}
			}
			if !strings.Contains(skipped, "a symbolic link, not followed") {
				t.Errorf("skipped_files gap = %q, want the link named", skipped)
			}
		})
	}
}

// TestCapture_FIFO: a FIFO named results.csv or args.yaml is a gap, not a
// capture that hangs.
func TestCapture_FIFO(t *testing.T) {
	for _, name := range []string{"results.csv", "args.yaml", "weights/best.pt"} {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join(fixtures, "detect"))
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, a := capture(t, dir, convert.Options{})
				gaps, _ := archive.ReadTable[schemas.GapRow](context.Background(), a, schemas.TableGaps)
				if !gapItems(gaps)["skipped_files"] {
					t.Errorf("no skipped_files gap for the FIFO")
				}
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				f, _ := os.OpenFile(p, os.O_WRONLY, 0) // unblock the reader
				f.Close()
				t.Fatal("capture hung on a FIFO")
			}
		})
	}
}

// TestCapture_RunDirLink: a run directory given as a link is captured as
// the directory itself, with or without a trailing slash, and says so.
func TestCapture_RunDirLink(t *testing.T) {
	dir := copyDir(t, filepath.Join(fixtures, "detect-savejson"))
	links := t.TempDir()
	link := filepath.Join(links, "latest")
	must(t, os.Symlink(dir, link))
	want, _ := capture(t, dir, convert.Options{})
	for _, src := range []string{link, link + "/"} {
		got, _ := capture(t, src, convert.Options{})
		if got.RunID != want.RunID {
			t.Errorf("%s: run id %s, want %s", src, got.RunID, want.RunID)
		}
		for _, table := range []string{"images", "annotations", "assets", "scalars", "params"} {
			if got.Rows[table] != want.Rows[table] {
				t.Errorf("%s: %d %s, want %d as the directory itself gives", src, got.Rows[table], table, want.Rows[table])
			}
		}
		if got.Blobs != want.Blobs {
			t.Errorf("%s: %d blobs, want %d", src, got.Blobs, want.Blobs)
		}
		if got.Resolved != dir {
			t.Errorf("%s: resolved = %q, want %q", src, got.Resolved, dir)
		}
		if len(got.Gaps) != len(want.Gaps) {
			t.Errorf("%s: gaps %v, want %v", src, got.Gaps, want.Gaps)
		}
	}
	if want.Resolved != "" {
		t.Errorf("the directory itself: resolved = %q, want none", want.Resolved)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCapture_DataSettingNotYAML: the run's own data setting naming a
// file that is not a .yaml (a credentials file, say) is a dataset gap,
// and the file is never read; --data, the user's choice, is read.
func TestCapture_DataSettingNotYAML(t *testing.T) {
	out := t.TempDir()
	creds := filepath.Join(out, "credentials")
	os.WriteFile(creds, []byte("names: ["+secret+"]\n"), 0o600)
	dir := copyDir(t, filepath.Join(fixtures, "detect"))
	args, _ := os.ReadFile(filepath.Join(dir, "args.yaml"))
	args = regexpData.ReplaceAll(args, []byte("data: "+creds+"\n"))
	os.WriteFile(filepath.Join(dir, "args.yaml"), args, 0o644)
	res, a := capture(t, dir, convert.Options{})
	runs, _ := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
	if len(runs) != 1 || len(runs[0].ClassNames) != 0 {
		t.Errorf("class names %v read from %s", runs[0].ClassNames, creds)
	}
	var reason string
	for _, g := range res.Gaps {
		if g.Item == "dataset" {
			reason = g.Reason
		}
	}
	if !strings.Contains(reason, "not a .yaml: not read") {
		t.Errorf("dataset gap %q, want the file refused", reason)
	}
	_, a = capture(t, dir, convert.Options{Data: creds})
	runs, _ = archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
	if len(runs[0].ClassNames) != 1 {
		t.Errorf("--data %s: class names %v, want the file read (the user's choice)", creds, runs[0].ClassNames)
	}
}

var regexpData = regexp.MustCompile(`(?m)^data: .*\n`)

// TestCapture_FIFOAsSource: a FIFO given as the source is refused at once
// (the zip reader blocked on it for ever).
func TestCapture_FIFOAsSource(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := convert.Detect(p)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "a FIFO") {
			t.Errorf("err = %v, want a FIFO refused", err)
		}
	case <-time.After(10 * time.Second):
		f, _ := os.OpenFile(p, os.O_WRONLY, 0)
		f.Close()
		t.Fatal("Detect hung on a FIFO")
	}
}

// TestCapture_SessionFilesNotFollowed: a ClearML session folder whose
// task.json or metrics.jsonl is a link is refused or read without it,
// never through the link.
func TestCapture_SessionFilesNotFollowed(t *testing.T) {
	src := filepath.Join(fixtures, "detect-clearml", "clearml_offline_session", "offline-65072dc9b8014849a4dc396a0eb301ec")
	for _, name := range []string{"task.json", "metrics.jsonl"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), filepath.Base(src))
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			real := filepath.Join(t.TempDir(), name)
			data, _ := os.ReadFile(filepath.Join(dir, name))
			os.WriteFile(real, data, 0o644)
			os.Remove(filepath.Join(dir, name))
			must(t, os.Symlink(real, filepath.Join(dir, name)))
			_, err := convert.Capture(context.Background(), dir, filepath.Join(t.TempDir(), "run.tar.zst"), convert.Options{})
			if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "a symbolic link, not followed") {
				t.Errorf("err = %v, want %s refused as a link", err, name)
			}
		})
	}
}
