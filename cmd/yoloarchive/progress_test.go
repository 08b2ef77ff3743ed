package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCLI_SyncDrawsBarsOnTerminal syncs two archives with stderr and
// stdout on a pseudo-terminal, as a person at a terminal runs it: bars are
// drawn, and they advance within a stage; the result lines print above
// them, whole.
func TestCLI_SyncDrawsBarsOnTerminal(t *testing.T) {
	// A server without the batch endpoints gets the metric points one
	// request each: a stage of many requests, whose bar advances (a
	// batch carries a run's points in one).
	cometEnv(t).WithoutBatch = 404
	a, b := synctest.Capture(t, "detect"), synctest.Capture(t, "detect-savejson")
	tty, transcript := synctest.Terminal(t)
	// No size is set: a terminal that reports 0×0, as under script(1)
	// without a controlling terminal, gets bars too.
	// The rate limit makes the sync last long enough for several frames.
	code := run(context.Background(), []string{"sync", a, b, "--to", "comet", "--state-dir", t.TempDir(), "--comet-rate", "60"}, tty, tty)
	out := transcript()
	if code != 0 {
		t.Fatalf("exit %d: %q", code, out)
	}
	if !strings.Contains(out, "A\x1b[J") {
		t.Fatalf("no bar was drawn (no cursor-up and erase): %q", out)
	}
	// "detect metrics 12/52": the stage's counter, at several values.
	seen := map[int]bool{}
	for _, m := range regexp.MustCompile(`detect metrics +\[[^\]]*\] (\d+)/(\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		if n > 0 && n < total {
			seen[n] = true
		}
	}
	if len(seen) < 2 {
		t.Errorf("the metrics bar did not advance (counts seen mid-stage: %v): %q", seen, out)
	}
	if !regexp.MustCompile(`[12]/2 archives`).MatchString(out) {
		t.Errorf("no batch bar: %q", out)
	}
	for _, p := range []string{a, b} {
		if !strings.Contains(out, p+": synced http") {
			t.Errorf("the result line of %s is missing or cut: %q", p, out)
		}
	}
}

// TestCLI_SyncProgressLines: without a terminal, a plain progress line
// is printed at a steady interval while the sync runs.
func TestCLI_SyncProgressLines(t *testing.T) {
	cometEnv(t).WithoutBatch = 404 // metric points one request each, as above
	a := synctest.Capture(t, "detect")
	t.Setenv("YOLOARCHIVE_PROGRESS_INTERVAL", "100ms")
	code, _, stderr := runCLI(t, "sync", a, "--to", "comet", "--state-dir", t.TempDir(), "--comet-rate", "60")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := regexp.MustCompile(`(?m)^sync: [01]/1 archives, .*; at work: detect .*$`).FindAllString(stderr, -1)
	if len(lines) < 3 {
		t.Fatalf("%d progress lines, want one every 100ms: %q", len(lines), stderr)
	}
	if !regexp.MustCompile(`at work: detect metrics \d+/\d+ \d+/s .* left`).MatchString(stderr) {
		t.Errorf("no line shows the metrics stage's count, rate and time left: %q", stderr)
	}
	if strings.Contains(stderr, "\x1b[") {
		t.Errorf("escape sequences without a terminal: %q", stderr)
	}
}

// TestCLI_SyncOfflineResultAfterBar: on a terminal, an offline export's
// "written" line comes after its bar's last frame, which is then cleared
// (run under script -qc, the line came first and the bar's stale last
// frame below it).
func TestCLI_SyncOfflineResultAfterBar(t *testing.T) {
	a := synctest.Capture(t, "detect")
	tty, transcript := synctest.Terminal(t)
	code := run(context.Background(), []string{"sync", a, "--to", "comet-offline", "-o", t.TempDir()}, tty, tty)
	out := transcript()
	if code != 0 {
		t.Fatalf("exit %d: %q", code, out)
	}
	result := strings.Index(out, a+": written ")
	if result < 0 {
		t.Fatalf("no result line: %q", out)
	}
	if frame := strings.LastIndex(out, "detect write "); frame > result {
		t.Errorf("the bar is drawn after the result line: %q", out)
	}
}
