package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// runCLITimed runs the CLI, cancelling it after limit (as Ctrl-C would),
// and returns how long it took.
func runCLITimed(t *testing.T, limit time.Duration, args ...string) (int, string, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String(), time.Since(start)
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// hundred is 100 links to one archive under distinct names (the batch
// stops before any is opened, so they need not be distinct runs).
func hundred(t *testing.T, archive string) []string {
	dir := t.TempDir()
	var args []string
	for i := range 100 {
		p := filepath.Join(dir, fmt.Sprintf("run%03d.tar.zst", i))
		if err := os.Symlink(archive, p); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	return args
}

// Issue 14.5: against a dead tracker, 100 archives end within 15 s with
// one line (before: 45-60 s per archive, a failure line each).
func TestCLI_Sync_UnreachableFailsFast(t *testing.T) {
	archive := synctest.Capture(t, "detect-clearml")
	for _, how := range []synctest.Unreachable{synctest.Closed, synctest.NoDNS, synctest.Blackhole} {
		t.Run(string(how), func(t *testing.T) {
			clearmlEnv(t)
			host := synctest.UnreachableURL(t, how)
			t.Setenv("CLEARML_API_HOST", host)
			t.Setenv("CLEARML_FILES_HOST", host)
			args := append(hundred(t, archive), "--to", "clearml", "--state-dir", t.TempDir())
			code, out, stderr, took := runCLITimed(t, 30*time.Second, append([]string{"sync"}, args...)...)
			if took > 15*time.Second {
				t.Errorf("took %v", took)
			}
			if code != exitFailure || len(lines(stderr)) != 1 || !strings.Contains(stderr, "unreachable") ||
				!strings.Contains(stderr, "100 archives not attempted") || out != "" {
				t.Errorf("exit %d in %v, stdout %q, stderr:\n%s", code, took, out, stderr)
			}
		})
	}
	// The same with --json: one object per archive, not attempted.
	clearmlEnv(t)
	t.Setenv("CLEARML_API_HOST", synctest.UnreachableURL(t, synctest.Closed))
	code, out, stderr, _ := runCLITimed(t, 30*time.Second, append(append([]string{"sync"}, hundred(t, archive)...), "--to", "clearml", "--json")...)
	objs := lines(out)
	var r ysync.Result
	if code != exitFailure || len(objs) != 100 || json.Unmarshal([]byte(objs[99]), &r) != nil ||
		r.Status != ysync.StatusNotAttempted || r.Cause != ysync.CauseUnreachable || len(lines(stderr)) != 1 {
		t.Errorf("--json: exit %d, %d objects (last %+v), stderr %q", code, len(objs), r, stderr)
	}
}

// Issue 14.5: a wrong key is told once, not once per archive, for each
// tracker and each place the credentials come from.
func TestCLI_Sync_WrongCredentialsOnce(t *testing.T) {
	t.Run("clearml env", func(t *testing.T) {
		clearmlEnv(t)
		t.Setenv("CLEARML_API_SECRET_KEY", "NOT-THE-SECRET-0000")
		archive := synctest.Capture(t, "detect-clearml")
		code, _, stderr, took := runCLITimed(t, 30*time.Second, append(append([]string{"sync"}, hundred(t, archive)...), "--to", "clearml")...)
		if code != exitFailure || len(lines(stderr)) != 1 || !strings.Contains(stderr, "rejected the access key from the variables CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY") ||
			strings.Contains(stderr, "NOT-THE-SECRET") || took > 15*time.Second {
			t.Errorf("exit %d in %v: %s", code, took, stderr)
		}
	})
	t.Run("comet env", func(t *testing.T) {
		cometEnv(t)
		t.Setenv("COMET_API_KEY", "WRONG-KEY-123456789")
		archive := synctest.Capture(t, "detect")
		code, _, stderr, took := runCLITimed(t, 30*time.Second, append(append([]string{"sync"}, hundred(t, archive)...), "--to", "comet")...)
		if code != exitFailure || len(lines(stderr)) != 1 || !strings.Contains(stderr, "rejected the API key from COMET_API_KEY") ||
			strings.Contains(stderr, "WRONG-KEY") || took > 15*time.Second {
			t.Errorf("exit %d in %v: %s", code, took, stderr)
		}
	})
}

// sync --check runs only the preflight.
func TestCLI_SyncCheck(t *testing.T) {
	srv := clearmlEnv(t)
	code, out, stderr := runCLI(t, "sync", "--check", "--to", "clearml", "--project", "Team/YOLO")
	if code != 0 || !strings.Contains(out, "ok") || !strings.Contains(out, `project "Team/YOLO" does not exist yet: the first sync creates it`) {
		t.Errorf("exit %d: %s %s", code, out, stderr)
	}
	if len(srv.Projects()) != 0 || srv.Calls("tasks.create") != 0 {
		t.Error("--check wrote to the server")
	}
	t.Setenv("CLEARML_API_SECRET_KEY", "NOT-THE-SECRET-0000")
	code, out, stderr = runCLI(t, "sync", "--check", "--to", "clearml")
	if code != exitFailure || out != "" || len(lines(stderr)) != 1 || !strings.Contains(stderr, "check failed") || strings.Contains(stderr, "NOT-THE-SECRET") {
		t.Errorf("wrong secret: exit %d: %q %s", code, out, stderr)
	}
	// Offline exports: the output directory must be writable.
	code, out, _ = runCLI(t, "sync", "--check", "--to", "comet-offline", "-o", t.TempDir())
	if code != 0 || !strings.Contains(out, "writable") {
		t.Errorf("comet-offline: exit %d: %s", code, out)
	}
	if code, _, _ := runCLI(t, "sync", "--to", "clearml"); code != exitUsage {
		t.Errorf("no archive and no --check: exit %d", code)
	}
}

// A destination that passes the preflight and then fails archive after
// archive for the same reason stops the batch after 3: the others are
// not attempted, and said so once.
func TestCLI_Sync_StopsOnRepeatedCause(t *testing.T) {
	srv := clearmlEnv(t)
	// Something that is not the API server answers the task lookups
	// (a proxy's page): a server error, not the archives' fault.
	srv.Faults.Next(1000, synctest.Fault{Kind: synctest.Garbage, Match: "tasks.get_all"})
	archive := synctest.Capture(t, "detect-clearml")
	paths := hundred(t, archive)[:8]
	code, out, stderr, _ := runCLITimed(t, time.Minute, append(append([]string{"sync"}, paths...), "--to", "clearml", "-j", "1", "--state-dir", t.TempDir())...)
	t.Log(stderr)
	failed := strings.Count(stderr, "failed: ")
	last := lines(stderr)[len(lines(stderr))-1]
	if code != exitFailure || failed != 3 || out != "" ||
		!strings.Contains(last, "stopped: 3 archives in a row failed (server error)") || !strings.Contains(last, "0 synced, 3 failed, 5 not attempted") {
		t.Errorf("exit %d, %d failed, stdout %q, stderr:\n%s", code, failed, out, stderr)
	}
	if len(srv.Tasks()) != 0 {
		t.Errorf("%d tasks", len(srv.Tasks()))
	}
}
