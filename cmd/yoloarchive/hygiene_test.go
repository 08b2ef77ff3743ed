package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCLI_CaptureLinkedRunDir: `capture latest`, latest a link to the
// run, captures the run as `latest/` and the directory itself do, and
// says so (issue 15: it captured 0 images without a gap).
func TestCLI_CaptureLinkedRunDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "train3")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "latest")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Source, Resolved, RunID string
		Rows                    map[string]int64
	}
	get := func(args ...string) (line, string) {
		code, stdout, stderr := runCLI(t, append([]string{"capture", "-o", t.TempDir() + "/"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var l struct {
			Source   string           `json:"source"`
			Resolved string           `json:"resolved"`
			RunID    string           `json:"run_id"`
			Rows     map[string]int64 `json:"rows"`
		}
		if strings.Contains(strings.Join(args, " "), "--json") {
			if err := json.Unmarshal([]byte(stdout), &l); err != nil {
				t.Fatalf("%v: %v: %s", args, err, stdout)
			}
		}
		return line{l.Source, l.Resolved, l.RunID, l.Rows}, stderr
	}
	want, _ := get("--json", dir)
	for _, src := range []string{link, link + "/"} {
		got, _ := get("--json", src)
		if got.RunID != want.RunID || got.Rows["images"] != want.Rows["images"] || got.Rows["images"] == 0 {
			t.Errorf("%s: run %s with %d images, want run %s with %d", src, got.RunID, got.Rows["images"], want.RunID, want.Rows["images"])
		}
		if got.Resolved != dir || got.Source != src {
			t.Errorf("%s: source %q resolved %q, want %q and %q", src, got.Source, got.Resolved, src, dir)
		}
		if _, stderr := get(src); !strings.Contains(stderr, "is a symbolic link: captured the directory it leads to, "+dir) {
			t.Errorf("%s: stderr %q does not say the link was resolved", src, stderr)
		}
	}
}

// TestCLI_CaptureLinkedRunDirLedger: the ledger sees a change in a run
// given as a link (its fingerprint is the directory's, not the link's).
func TestCLI_CaptureLinkedRunDirLedger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "train3")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "latest")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if code, _, stderr := runCLI(t, "capture", "-o", out, link); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "results.csv"), future, future)
	if code, stdout, _ := runCLI(t, "capture", "-o", out, "--json", link); code != 0 || !strings.Contains(stdout, `"status":"ok"`) {
		t.Errorf("changed run behind a link: exit %d: %s", code, stdout)
	}
}

// TestCLI_RecursiveLinks: --recursive never searches through a link to a
// folder, and says so; a ROOT given as a link is searched.
func TestCLI_RecursiveLinks(t *testing.T) {
	elsewhere := filepath.Join(t.TempDir(), "other")
	if err := os.CopyFS(filepath.Join(elsewhere, "run"), os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "mine"), os.DirFS(filepath.Join(fixtures, "detect-savejson"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(root, "outside")); err != nil {
		t.Fatal(err)
	}
	rootLink := filepath.Join(t.TempDir(), "runs")
	if err := os.Symlink(root, rootLink); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{root, rootLink} {
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, "capture", "-r", "-o", out, "--json", r)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", r, code, stderr)
		}
		if n := strings.Count(stdout, `"status":"ok"`); n != 1 || strings.Contains(stdout, "outside") {
			t.Errorf("%s: captured %d runs, want only mine: %s", r, n, stdout)
		}
		if !strings.Contains(stderr, "outside is a symbolic link to a folder: not searched") {
			t.Errorf("%s: stderr %q does not name the link left out", r, stderr)
		}
	}
}

// TestCLI_CaptureDotDotName: a run named ../x gets an archive that
// archives/*.tar.zst finds (issue 15: a hidden .._x-….tar.zst).
func TestCLI_CaptureDotDotName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args.yaml"))
	args = regexp.MustCompile(`(?m)^name: .*$`).ReplaceAll(args, []byte("name: ../x"))
	os.WriteFile(filepath.Join(dir, "args.yaml"), args, 0o644)
	out := t.TempDir()
	if code, _, stderr := runCLI(t, "capture", "-o", out+"/", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir(out)
	paths, _ := filepath.Glob(filepath.Join(out, "*.tar.zst"))
	if len(paths) != 1 || !strings.HasPrefix(filepath.Base(paths[0]), "x-") {
		t.Errorf("archives %v (directory holds %v), want one x-….tar.zst", paths, ents)
	}
}

// TestCLI_Umask: archives, exports and offline exports are created as
// any file of the user (0666/0777 less the umask), not forced to 0644
// (issue 15: world-readable under umask 077). The real binary runs under
// each umask.
func TestCLI_Umask(t *testing.T) {
	bin := buildHooked(t)
	run := filepath.Join(fixtures, "detect")
	for _, tc := range []struct {
		umask     string
		file, dir os.FileMode
	}{
		{"077", 0o600, 0o700},
		{"002", 0o664, 0o775},
	} {
		t.Run(tc.umask, func(t *testing.T) {
			out := t.TempDir()
			sh := func(args ...string) {
				t.Helper()
				cmd := exec.Command("sh", append([]string{"-c", `umask ` + tc.umask + `; exec "$@"`, "sh", bin}, args...)...)
				cmd.Env = append(os.Environ(), "YOLOARCHIVE_STATE_DIR="+t.TempDir())
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v: %v: %s", args, err, b)
				}
			}
			archive := filepath.Join(out, "run.tar.zst")
			sh("capture", run, "-o", archive)
			sh("export", archive, "-o", filepath.Join(out, "dataset"))
			sh("sync", archive, "--to", "comet-offline", "--out", filepath.Join(out, "comet"))
			sh("sync", archive, "--to", "clearml-offline", "--out", filepath.Join(out, "clearml"))
			var seen int
			filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
				if err != nil || p == out {
					return err
				}
				info, _ := d.Info()
				want := tc.file
				if d.IsDir() {
					want = tc.dir
				}
				if got := info.Mode().Perm(); got != want {
					t.Errorf("%s: mode %o, want %o", strings.TrimPrefix(p, out), got, want)
				}
				seen++
				return nil
			})
			if seen < 10 {
				t.Errorf("only %d outputs", seen)
			}
		})
	}
}

// TestCLI_ControlCharactersEscaped: names from a run with terminal
// escape sequences (a file name, a class name, the run name) are escaped
// in every human line of capture and inspect, and kept as they are in
// --json (issue 15: inspect printed them raw).
func TestCLI_ControlCharactersEscaped(t *testing.T) {
	const evil = "x\x1b]0;owned\x07\x1b[2J\u009b31m\u202e"
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes"+evil+".txt"), []byte("hi"), 0o644)
	args, _ := os.ReadFile(filepath.Join(dir, "args.yaml"))
	args = regexp.MustCompile(`(?m)^name: .*$`).ReplaceAll(args, []byte(`name: "run\e[31m"`))
	os.WriteFile(filepath.Join(dir, "args.yaml"), args, 0o644)
	archive := filepath.Join(t.TempDir(), "run.tar.zst")
	raw := func(s string) bool { return strings.ContainsAny(s, "\x1b\x07\u009b\u202e") }
	code, stdout, stderr := runCLI(t, "capture", "-v", dir, "-o", archive)
	if code != 0 {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{{"inspect", archive}, {"verify", archive}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		stdout += out
		stderr += errOut
	}
	if raw(stdout) || raw(stderr) {
		t.Errorf("control characters reached the terminal:\n%q\n%q", stdout, stderr)
	}
	if !strings.Contains(stdout, `notes x\x1b]0;owned\x07\x1b[2J\u009b31m\u202e.txt`) && !strings.Contains(stdout, `notesx\x1b]0;owned\x07\x1b[2J\u009b31m\u202e.txt`) {
		t.Errorf("the escaped file name is not shown: %s", stdout)
	}
	// --json keeps the names as they are.
	_, out, _ := runCLI(t, "inspect", "--json", archive)
	var rep struct {
		Run struct {
			Name string `json:"name"`
		} `json:"run"`
		Assets []struct {
			FileName string `json:"file_name"`
		} `json:"assets"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("inspect --json: %v: %s", err, out)
	}
	found := false
	for _, a := range rep.Assets {
		found = found || a.FileName == "notes"+evil+".txt"
	}
	if rep.Run.Name != "run\x1b[31m" || !found {
		t.Errorf("--json: name %q, assets %+v: want the names as they are", rep.Run.Name, rep.Assets)
	}
}
