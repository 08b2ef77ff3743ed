package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestore_CLI restores an archive, reports it in both forms, and
// refuses a non-empty directory with exit code 1 and one line naming it.
func TestRestore_CLI(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "detect.tar.zst")
	if code, _, stderr := runCLI(t, "capture", "-q", filepath.Join(fixtures, "detect"), "-o", arch); code != 0 {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "back", "detect")
	code, stdout, stderr := runCLI(t, "restore", arch, "-o", out)
	if code != 0 || !strings.Contains(stdout, arch+" -> "+out) || !strings.Contains(stdout, "gaps: mode") || strings.Contains(stdout, "mtime") {
		t.Fatalf("restore: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The archive (format 1.4) stores each file's time: no mtime gap, and
	// results.csv has its original's time.
	got, err := os.Stat(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.Stat(filepath.Join(fixtures, "detect", "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.ModTime().Equal(orig.ModTime()) {
		t.Errorf("results.csv: mtime %v, original %v", got.ModTime(), orig.ModTime())
	}
	code, stdout, stderr = runCLI(t, "restore", arch, "-o", out)
	if code != exitFailure || stdout != "" || !strings.HasPrefix(stderr, "failed: "+arch+": "+out+" is not empty") {
		t.Errorf("restore into a non-empty dir: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "restore", "--json", "--overwrite", arch, "-o", out)
	var rep struct {
		Status string `json:"status"`
		Files  int    `json:"files"`
		Gaps   []struct {
			Item string `json:"item"`
		} `json:"gaps"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 || rep.Status != "ok" || rep.Files != 16 || len(rep.Gaps) == 0 {
		t.Errorf("--json: exit %d, %+v (%v): %s", code, rep, err, stdout)
	}
}
