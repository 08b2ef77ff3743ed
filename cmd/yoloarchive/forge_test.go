package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLI_NewlineCannotForgeALine: a run directory, a run name and a file
// name holding a newline are shown escaped in every human line (capture,
// capture -r, inspect, verify, sync, export, and their failures), so that
// none of them can forge a line such as "synced: 5 archives"; --json keeps
// them as they are.
func TestCLI_NewlineCannotForgeALine(t *testing.T) {
	const forged = "\nsynced: 5 archives\r\nfailed: x"
	root := t.TempDir()
	dir := filepath.Join(root, "a"+forged)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes"+forged+".txt"), []byte("hi"), 0o644)
	os.Symlink("/nonexistent", filepath.Join(dir, "link"+forged))
	args, _ := os.ReadFile(filepath.Join(dir, "args.yaml"))
	args = regexp.MustCompile(`(?m)^name: .*$`).ReplaceAll(args, []byte(`name: "run\nsynced: 5 archives"`))
	os.WriteFile(filepath.Join(dir, "args.yaml"), args, 0o644)
	out := t.TempDir()
	var all strings.Builder
	runs := [][]string{
		{"capture", "-v", dir, "-o", out},
		{"capture", "-v", "-r", root, "-o", filepath.Join(t.TempDir(), "r")},
		{"capture", "-v", filepath.Join(root, "missing"+forged), "-o", out},
	}
	for _, a := range runs {
		_, stdout, stderr := runCLI(t, a...)
		all.WriteString(stdout + stderr)
	}
	archives, _ := filepath.Glob(filepath.Join(out, "*.tar.zst"))
	if len(archives) != 1 {
		t.Fatalf("archives %v, want 1: %s", archives, all.String())
	}
	a := archives[0]
	for _, args := range [][]string{
		{"inspect", a}, {"verify", a}, {"status", a},
		{"sync", "-v", a, "--to", "comet-offline", "--out", t.TempDir()},
		{"sync", "-v", a, "--to", "clearml-offline", "--out", t.TempDir()},
		{"export", a, "--format", "csv", "-o", t.TempDir()},
	} {
		_, stdout, stderr := runCLI(t, args...)
		all.WriteString(stdout + stderr)
	}
	for _, line := range strings.FieldsFunc(all.String(), func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.HasPrefix(line, "synced: 5") || strings.HasPrefix(line, "failed: x") {
			t.Errorf("a name forged the line %q in:\n%s", line, all.String())
		}
	}
	// --json keeps the names as they are.
	_, stdout, _ := runCLI(t, "inspect", "--json", a)
	var rep struct {
		Run struct {
			Name string `json:"name"`
		} `json:"run"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("inspect --json: %v: %s", err, stdout)
	}
	if rep.Run.Name != "run\nsynced: 5 archives" {
		t.Errorf("--json: name %q, want it as it is", rep.Run.Name)
	}
}
