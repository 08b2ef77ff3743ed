package main

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/vision/contours"
)

// runsRoot copies the segment-val run (368 masks) and the detect run (no
// masks) into a folder for capture --recursive.
func runsRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, name := range []string{"segment-val", "detect"} {
		if err := os.CopyFS(filepath.Join(root, name), os.DirFS(filepath.Join(fixtures, name))); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestCLI_Capture_ContoursHelperFails: in a batch, a contours helper that
// is missing, dies or hangs fails the run with masks, with one line that
// says what happened, and the other run is captured (exit 3);
// --no-polygons captures both without a helper.
func TestCLI_Capture_ContoursHelperFails(t *testing.T) {
	root := runsRoot(t)
	helper := func(body string) string {
		p := filepath.Join(t.TempDir(), contours.Name)
		os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755)
		return p
	}
	for _, tc := range []struct {
		name, path, timeout string
		want                []string
	}{
		{"Missing", "", "", []string{"yoloarchive-contours helper (OpenCV) is not installed", "install yoloarchive-contours (built with OpenCV) beside yoloarchive, or capture with --no-polygons"}},
		{"Dies", helper("echo 'terminate called after throwing an instance of cv::Exception' >&2; kill -ABRT $$"), "", []string{"died (signal: aborted) before it was ready: terminate called after throwing an instance of cv::Exception"}},
		{"Hangs", helper("exec /bin/sleep 60"), "300ms", []string{"did not get ready in 300ms: killed it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(contours.EnvPath, tc.path)
			t.Setenv(contours.EnvTimeout, tc.timeout)
			t.Setenv("PATH", t.TempDir()) // no helper there either
			out := t.TempDir()
			code, stdout, stderr := runCLI(t, "capture", "-r", root, "--out-dir", out, "-j", "1")
			if code != exitPartial {
				t.Fatalf("exit %d, want %d (partial)\nstdout %s\nstderr %s", code, exitPartial, stdout, stderr)
			}
			var line string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.Contains(l, statusFailed+": ") { // problemLine: "failed: PATH: what went wrong"
					line = l
				}
			}
			if !strings.Contains(line, filepath.Join(root, "segment-val", "predictions.json")+": ") {
				t.Errorf("error line %q does not name predictions.json\nstderr %s", line, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("error line %q\nwant %q", line, w)
				}
			}
			archives, _ := filepath.Glob(filepath.Join(out, "*.tar.zst"))
			if len(archives) != 1 || !strings.Contains(stdout, filepath.Join(root, "detect")+" -> ") {
				t.Errorf("archives %v, stdout %q: want the detect run's alone", archives, stdout)
			}
			if tmp, _ := filepath.Glob(filepath.Join(out, ".*tmp")); len(tmp) != 0 {
				t.Errorf("left behind: %v", tmp)
			}
		})
	}
	t.Setenv(contours.EnvPath, filepath.Join(t.TempDir(), "missing"))
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "capture", "-r", root, "--out-dir", out, "--no-polygons")
	if code != 0 {
		t.Fatalf("--no-polygons: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if archives, _ := filepath.Glob(filepath.Join(out, "*.tar.zst")); len(archives) != 2 {
		t.Errorf("--no-polygons: archives %v", archives)
	}
}

// TestBuild_StaticBinaryAndHelper builds yoloarchive as the release does
// (CGO_ENABLED=0) and the contours helper beside it, checks that the first
// is static and links no gocv, and that a capture with the real helper
// gives the annotations of an in-process capture, polygon for polygon.
func TestBuild_StaticBinaryAndHelper(t *testing.T) {
	deps, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, deps)
	}
	for _, p := range strings.Fields(string(deps)) {
		if strings.HasPrefix(p, "gocv.io/") || strings.HasSuffix(p, "yoloarchive/vision") {
			t.Errorf("yoloarchive imports %s: only the contours helper may link OpenCV", p)
		}
		// Their package initialisation cost every command milliseconds
		// and a garbage collection at start (docs/performance.md).
		// (protobuf stays: parquet-go's struct mapping imports it.)
		for _, heavy := range []string{"google.golang.org/grpc", "github.com/apache/arrow/go/v17/arrow/flight",
			"github.com/apache/arrow/go/v17/arrow/compute", "github.com/apache/arrow/go/v17/parquet/pqarrow"} {
			if p == heavy || strings.HasPrefix(p, heavy+"/") {
				t.Errorf("yoloarchive imports %s: it slows every start; the Arrow export builds its batches with arrow/array", p)
			}
		}
	}
	dir := t.TempDir()
	bin, helper := filepath.Join(dir, "yoloarchive"), filepath.Join(dir, contours.Name)
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	if out, err := exec.Command("bash", "../../scripts/build-helper.sh", helper).CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-helper.sh: %v\n%s", err, out)
	}
	// The helper links OpenCV's core and imgproc, not the 264 shared
	// objects of gocv's default build that cost it 0.45 s at every start.
	hf, err := elf.Open(helper)
	if err != nil {
		t.Fatal(err)
	}
	libs, err := hf.ImportedLibraries()
	hf.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		if strings.HasPrefix(l, "libopencv_") && !strings.HasPrefix(l, "libopencv_core.") && !strings.HasPrefix(l, "libopencv_imgproc.") {
			t.Errorf("the helper links %s (all: %v): only OpenCV's core and imgproc are needed", l, libs)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v program header: not static", bin, p.Type)
		}
	}
	f.Close()

	src := filepath.Join(fixtures, "segment-val")
	got := filepath.Join(dir, "real.tar.zst")
	cmd := exec.Command(bin, "capture", src, "-o", got)
	for _, e := range os.Environ() { // find the helper beside the binary
		if !strings.HasPrefix(e, contours.EnvPath+"=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("capture with the real helper: %v\n%s", err, out)
	}
	want := filepath.Join(dir, "inprocess.tar.zst")
	if code, _, stderr := runCLI(t, "capture", src, "-o", want); code != 0 {
		t.Fatalf("in-process capture: exit %d: %s", code, stderr)
	}
	rows := func(p string) []schemas.AnnotationRow {
		a, err := archive.Open(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		r, err := archive.ReadTable[schemas.AnnotationRow](context.Background(), a, schemas.TableAnnotations)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	g, w := rows(got), rows(want)
	polys := 0
	for _, r := range g {
		polys += len(r.Polygons)
	}
	if !reflect.DeepEqual(g, w) || polys == 0 {
		t.Errorf("the real helper's annotations (%d rows, %d polygons) differ from the in-process capture's (%d rows)", len(g), polys, len(w))
	}
	out, err := exec.Command(helper, "--version").Output()
	if err != nil || !strings.Contains(string(out), "OpenCV 4.") {
		t.Errorf("%s --version: %q, %v", contours.Name, out, err)
	}
}

// TestBuild_HelperFlagsAgree: GoReleaser cannot run scripts/build-helper.sh,
// so .goreleaser.yaml repeats its flags, for both architectures; the
// Makefile and the Dockerfile run the script.
func TestBuild_HelperFlagsAgree(t *testing.T) {
	script, err := os.ReadFile("../../scripts/build-helper.sh")
	if err != nil {
		t.Fatal(err)
	}
	release, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"CGO_CFLAGS", "CGO_CXXFLAGS"} {
		i := strings.Index(string(script), "export "+v+"=\"")
		if i < 0 {
			t.Fatalf("build-helper.sh sets no %s", v)
		}
		val := strings.SplitN(string(script)[i+len("export "+v+"=\""):], "\"", 2)[0]
		if n := strings.Count(string(release), "- "+v+"="+val+"\n"); n != 2 {
			t.Errorf(".goreleaser.yaml has %s=%s %d times, want 2 (amd64, arm64)", v, val, n)
		}
	}
	ld := "-Wl,--gc-sections -Wl,--as-needed -lopencv_imgproc -lopencv_core"
	if !strings.Contains(string(script), ld) || strings.Count(string(release), "- CGO_LDFLAGS="+ld+"\n") != 2 {
		t.Errorf("build-helper.sh and .goreleaser.yaml (twice) must both link with %q", ld)
	}
	if !strings.Contains(string(release), "tags: [customenv]") {
		t.Error(".goreleaser.yaml builds the helper without gocv's customenv tag")
	}
	for _, f := range []string{"../../Makefile", "../../Dockerfile"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "scripts/build-helper.sh") {
			t.Errorf("%s does not build the helper with scripts/build-helper.sh", f)
		}
	}
}
