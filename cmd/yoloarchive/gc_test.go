package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// gcSettings reads the collector's percent and memory limit.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

func TestStartGC_OffUntilTheFirstCollection(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent, limit := gcSettings()
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	startGC()
	if p, l := gcSettings(); p != -1 || l != startHeapLimit {
		t.Fatalf("after startGC: GOGC=%d, limit %d, want off and %d", p, l, startHeapLimit)
	}
	runtime.GC()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, l := gcSettings()
		if p == percent && l == limit {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first collection: GOGC=%d, limit %d, want %d and %d back", p, l, percent, limit)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStartGC_LeavesTheUsersSettings(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			t.Setenv(env, "200")
			percent, limit := gcSettings()
			startGC()
			if p, l := gcSettings(); p != percent || l != limit {
				t.Errorf("with %s set: GOGC=%d, limit %d, want %d and %d unchanged", env, p, l, percent, limit)
			}
		})
	}
}

// TestVerify_NoCollection runs the program's verify of a small archive
// with GODEBUG=gctrace=1: it must end before its first garbage
// collection (it had one, at the 4 MB heap Go starts collecting at).
func TestVerify_NoCollection(t *testing.T) {
	bin := buildHooked(t)
	cmd := exec.Command(bin, "verify", filepath.Join("..", "..", "testdata", "archives", "v1.0-detect.tar.zst"))
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1", "GOGC=", "GOMEMLIMIT=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, stderr.String())
	}
	if strings.Contains(stderr.String(), "gc 1 @") {
		t.Errorf("verify of an 870 KiB archive collected garbage:\n%s", stderr.String())
	}
}
