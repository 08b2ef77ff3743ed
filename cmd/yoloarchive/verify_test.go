package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCLI_VerifyMixed: complete archives are verified without being
// resolved as chains first (verifyComplete), and what is not one is
// reported as before: a chain once however many of its links are named,
// its unnumbered base path too, a complete archive every time it is named,
// a damaged archive and a missing file as failures.
func TestCLI_VerifyMixed(t *testing.T) {
	tr := synctest.NewTraining(t, "mixed", 2)
	out := t.TempDir()
	base := filepath.Join(out, "run.tar.zst")
	for !tr.Done() {
		tr.Step()
		if code, _, stderr := runCLI(t, "capture", "--follow", "--once", tr.Dir, "-o", base); code != 0 {
			t.Fatalf("capture --follow --once: exit %d: %s", code, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "capture", "--follow", "--once", tr.Dir, "-o", base); code != 0 {
		t.Fatalf("capture --follow --once: exit %d: %s", code, stderr)
	}
	links, _ := filepath.Glob(filepath.Join(out, "run.*.tar.zst"))
	if len(links) < 2 {
		t.Fatalf("%d links", len(links))
	}
	complete := filepath.Join("..", "..", "testdata", "archives", "v1.0-detect.tar.zst")
	damaged := filepath.Join(t.TempDir(), "damaged.tar.zst")
	b, err := os.ReadFile(complete)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(damaged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(out, "missing.tar.zst")

	code, stdout, _ := runCLI(t, "verify", complete, links[1], damaged, links[0], base, complete, missing)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	want := [][2]string{{"ok      ", complete}, {"ok      ", links[1]}, {"failed  ", damaged}, {"ok      ", complete}, {"failed  ", missing}}
	if code != exitPartial || len(lines) != len(want) {
		t.Fatalf("exit %d, %d lines, want %d, %d:\n%s", code, len(lines), exitPartial, len(want), stdout)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w[0]) || !strings.Contains(lines[i], w[1]) {
			t.Errorf("line %d: %q, want %q naming %s", i+1, lines[i], w[0], w[1])
		}
	}
	if !strings.Contains(lines[0], "digest ") || !strings.Contains(lines[1], "chain of ") {
		t.Errorf("a complete archive, then a chain:\n%s", stdout)
	}
}
