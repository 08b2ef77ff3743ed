package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCLI_FollowSyncCompact drives the chain commands as cron would:
// `capture --follow --once` after every few steps of a training run, `sync`
// of the links so far, then verify, a second capture that finds the chain
// final, and compact.
func TestCLI_FollowSyncCompact(t *testing.T) {
	srv := clearmlEnv(t)
	tr := synctest.NewTraining(t, "cli", 4)
	out := t.TempDir()
	base := filepath.Join(out, "run.tar.zst")
	state := t.TempDir()
	links := func() []string {
		l, _ := filepath.Glob(filepath.Join(out, "run.*.tar.zst"))
		return l
	}
	var partial int
	for i := 0; ; i++ {
		if !tr.Done() {
			tr.Step()
		}
		// The simulated files are old by the real clock, so nothing waits
		// to settle: every look may add a link.
		code, stdout, stderr := runCLI(t, "capture", "--follow", "--once", tr.Dir, "-o", base)
		if code != 0 {
			t.Fatalf("capture --follow --once: exit %d: %s", code, stderr)
		}
		if strings.Contains(stdout, "final link") {
			break
		}
		if i > 200 {
			t.Fatal("no final link")
		}
		if i%5 == 4 && len(links()) > 0 {
			args := append([]string{"sync", "--to", "clearml", "--state-dir", state}, links()...)
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("sync: exit %d: %s %s", code, stdout, stderr)
			}
			if strings.Count(stdout, ": partial ") == 1 {
				partial++
			}
		}
	}
	args := append([]string{"sync", "--to", "clearml", "--state-dir", state}, links()...)
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 || strings.Count(stdout, ": synced ") != 1 {
		t.Fatalf("final sync: exit %d: %s %s", code, stdout, stderr)
	}
	if tasks := srv.Tasks(); len(tasks) != 1 || tasks[0].Status != "completed" || partial == 0 {
		t.Errorf("%d tasks (%+v), %d partial syncs", len(tasks), tasks, partial)
	}

	code, stdout, _ = runCLI(t, "verify", links()[0])
	if code != 0 || !strings.Contains(stdout, "final") || !strings.Contains(stdout, "chain of") {
		t.Errorf("verify: exit %d: %s", code, stdout)
	}
	code, _, stderr = runCLI(t, "capture", "--follow", tr.Dir, "-o", base)
	if code != 0 || !strings.Contains(stderr, "already ends with its final link") {
		t.Errorf("following a final chain: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "capture", "--compact", links()[2])
	if code != 0 || !strings.Contains(stdout, "in one archive") {
		t.Fatalf("compact: exit %d: %s %s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "inspect", base)
	if code != 0 || !strings.Contains(stdout, "status finished") {
		t.Errorf("inspect of the compacted archive: exit %d: %s", code, stdout)
	}

	// A link removed from the middle: verify names it.
	os.Remove(links()[1])
	code, stdout, _ = runCLI(t, "verify", links()[0])
	if code == 0 || !strings.Contains(stdout, "link 1 is missing") {
		t.Errorf("verify of a chain without link 1: exit %d: %s", code, stdout)
	}
}
