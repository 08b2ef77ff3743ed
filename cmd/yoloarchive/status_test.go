package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

func checks(t *testing.T, out string) []ysync.Standing {
	t.Helper()
	var cs []ysync.Standing
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c ysync.Standing
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		cs = append(cs, c)
	}
	return cs
}

// TestCLI_Status syncs an archive to a fake ClearML server, then asks
// status about it (given, and from the state directory alone), and
// cleans the checkpoint once the archive is gone.
func TestCLI_Status(t *testing.T) {
	clearmlEnv(t)
	data, err := os.ReadFile(synctest.Capture(t, "detect"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	arch := filepath.Join(dir, "detect.tar.zst")
	os.WriteFile(arch, data, 0o644)
	state := t.TempDir()

	code, out, _ := runCLI(t, "status", arch, "--json", "--state-dir", state)
	if cs := checks(t, out); code != 0 || len(cs) != 1 || cs[0].Status != "not-synced" {
		t.Fatalf("before a sync: exit %d: %s", code, out)
	}
	if code, _, stderr := runCLI(t, "sync", arch, "--to", "clearml", "--state-dir", state, "-q"); code != 0 {
		t.Fatalf("sync: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{{arch}, nil} {
		code, out, _ = runCLI(t, append([]string{"status", "--json", "--state-dir", state}, args...)...)
		cs := checks(t, out)
		if code != 0 || len(cs) != 1 {
			t.Fatalf("status %v: exit %d: %s", args, code, out)
		}
		c := cs[0]
		if c.Status != ysync.StandingSynced || c.RemoteID == "" || c.URL == "" || c.SyncedAt == nil || !strings.HasPrefix(c.Destination, "clearml:") {
			t.Errorf("status %v: %+v", args, c)
		}
		if args == nil && c.Archive != arch { // arch is absolute: the checkpoint records it
			t.Errorf("status: archive %q, want %q", c.Archive, arch)
		}
	}
	code, out, _ = runCLI(t, "status", "--state-dir", state)
	if code != 0 || !strings.HasPrefix(out, "synced  "+arch) || !strings.Contains(out, "http") {
		t.Errorf("status: exit %d: %q", code, out)
	}

	// A damaged archive is one failed line, the exit code 1.
	bad := filepath.Join(dir, "bad.tar.zst")
	os.WriteFile(bad, data[:len(data)/2], 0o644)
	code, out, stderr := runCLI(t, "status", bad, "--state-dir", state)
	if code != exitFailure || out != "" || !strings.HasPrefix(stderr, "failed: "+bad) {
		t.Errorf("damaged archive: exit %d, %q, %q", code, out, stderr)
	}

	// --clean: nothing while the archive exists; its checkpoint and lock
	// once it is gone.
	code, out, _ = runCLI(t, "status", "--clean", "--state-dir", state)
	if code != 0 || !strings.Contains(out, "cleaned: 0 checkpoints, 1 locks removed") {
		t.Errorf("clean with the archive present: exit %d: %s", code, out)
	}
	os.Remove(arch)
	code, out, _ = runCLI(t, "status", "--clean", "--state-dir", state)
	if code != 0 || !strings.Contains(out, "cleaned: 1 checkpoints, 0 locks removed") {
		t.Errorf("clean: exit %d: %s", code, out)
	}
	code, out, _ = runCLI(t, "status", "--state-dir", state)
	if code != 0 || !strings.Contains(out, "no sync checkpoints") {
		t.Errorf("after clean: exit %d: %s", code, out)
	}
}
