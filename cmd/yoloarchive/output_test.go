package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCLI_SyncGapsOncePerBatch: a batch's gaps are summarised once, with
// the number of archives lacking each item; -v lists them per archive,
// --json holds them per archive, -q prints nothing but problems.
func TestCLI_SyncGapsOncePerBatch(t *testing.T) {
	archives := []string{synctest.Capture(t, "detect"), synctest.Capture(t, "detect-savejson"), synctest.Capture(t, "segment-val")}
	sync := func(flags ...string) (string, string) {
		t.Helper()
		args := append(append([]string{"sync"}, archives...), "--to", "comet-offline", "--out", t.TempDir())
		code, stdout, stderr := runCLI(t, append(args, flags...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", flags, code, stderr)
		}
		return stdout, stderr
	}

	// The JSON report: every archive's gaps, as objects.
	stdout, _ := sync("--json")
	count := map[string]int{}
	withGaps := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var res ysync.Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		if len(res.Gaps) > 0 {
			withGaps++
		}
		for _, g := range res.Gaps {
			if g.Item == "" || g.Reason == "" {
				t.Errorf("%s: gap without item or reason: %+v", res.Archive, g)
			}
			count[g.Item]++
		}
	}
	if withGaps == 0 || strings.Contains(stdout, "not_recoverable") {
		t.Fatalf("no gaps in the JSON report, or under another name: %s", stdout)
	}

	// Default: one line per archive, then the summary, once.
	stdout, stderr := sync()
	want := []string{fmt.Sprintf("gaps in %d of %d archives, by item (-v lists each archive's, with the reasons):", withGaps, len(archives))}
	items := make([]string, 0, len(count))
	for k := range count {
		items = append(items, k)
	}
	sort.Slice(items, func(i, j int) bool {
		if count[items[i]] != count[items[j]] {
			return count[items[i]] > count[items[j]]
		}
		return items[i] < items[j]
	})
	for _, k := range items {
		want = append(want, fmt.Sprintf("  %4d  %s", count[k], k))
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(archives)+len(want) {
		t.Fatalf("%d lines, want %d result lines and the %d-line summary:\n%s", len(lines), len(archives), len(want), stdout)
	}
	if got := strings.Join(lines[len(archives):], "\n"); got != strings.Join(want, "\n") {
		t.Errorf("summary:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for _, word := range []string{"not recoverable", "not recovered"} {
		if strings.Contains(stdout+stderr, word) {
			t.Errorf("%q: one concept, one word (gap):\n%s%s", word, stdout, stderr)
		}
	}

	// -v: each archive's gaps, with the reasons, and no summary.
	stdout, _ = sync("-v")
	for k, n := range count {
		if got := strings.Count(stdout, "  gap "+k+": "); got != n {
			t.Errorf("-v lists gap %s %d times, want %d (one per archive lacking it)", k, got, n)
		}
	}
	if strings.Contains(stdout, "by item") {
		t.Errorf("-v repeats the summary:\n%s", stdout)
	}

	// One archive: its gap items on one line.
	code, stdout, stderr := runCLI(t, "sync", archives[0], "--to", "comet-offline", "--out", t.TempDir())
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); code != 0 || len(lines) != 2 ||
		!strings.HasPrefix(lines[1], "gaps: ") || !strings.Contains(lines[1], "model_info") || strings.Contains(lines[1], "  1  ") {
		t.Errorf("one archive: exit %d: %q %q", code, stdout, stderr)
	}

	// -q: nothing when all went well.
	if stdout, stderr := sync("-q"); stdout != "" || stderr != "" {
		t.Errorf("-q printed %q %q", stdout, stderr)
	}
}

// TestCLI_FailedStatusEverywhere: an input that fails has the status
// "failed" in every command's JSON report, and a human line starting
// with "failed".
func TestCLI_FailedStatusEverywhere(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tar.zst")
	if err := os.WriteFile(bad, []byte("not an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"capture", dir, "-o", filepath.Join(dir, "x.tar.zst")},
		{"verify", bad},
		{"export", bad, "-o", filepath.Join(dir, "dataset")},
		{"sync", bad, "--to", "comet-offline", "--out", filepath.Join(dir, "zips")},
	} {
		code, stdout, stderr := runCLI(t, append(args, "--json")...)
		var rep struct{ Status, Error string }
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailure {
			t.Errorf("%s: exit %d, %v: %q %q", args[0], code, err, stdout, stderr)
			continue
		}
		if rep.Status != "failed" || rep.Error == "" {
			t.Errorf("%s: status %q, error %q; want failed", args[0], rep.Status, rep.Error)
		}
		_, stdout, stderr = runCLI(t, args...)
		if out := stdout + stderr; !strings.HasPrefix(out, "failed") {
			t.Errorf("%s: the failure is not reported as failed: %q", args[0], out)
		}
	}
}

// TestCLI_CaptureMissingData: a --data file that does not exist is an
// error naming it, not a capture that quietly records the dataset as a gap.
func TestCLI_CaptureMissingData(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	code, stdout, stderr := runCLI(t, "capture", filepath.Join(fixtures, "detect"), "--data", missing, "-o", filepath.Join(dir, "x.tar.zst"))
	if code != exitFailure || !strings.Contains(stderr, "--data "+missing) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, want %d and one line naming %s: %q %q", code, exitFailure, missing, stdout, stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// TestCLI_HintsNameRealFlags: the hints of sync's errors and gaps name
// flags that exist, on the command that has them.
func TestCLI_HintsNameRealFlags(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CLEARML_CONFIG_FILE", "")
	for _, k := range []string{"CLEARML_API_HOST", "CLEARML_WEB_HOST", "CLEARML_FILES_HOST"} {
		t.Setenv(k, "")
	}
	// A run whose dataset is not on this machine.
	run := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(run, os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	archive := synctest.Capture(t, run)
	_, _, stderr := runCLI(t, "sync", archive, "--to", "clearml", "--state-dir", t.TempDir())
	if !strings.Contains(stderr, "--clearml-api-host") || strings.Contains(stderr, " --api-host") {
		t.Errorf("no server: %q", stderr)
	}
	t.Setenv("CLEARML_API_ACCESS_KEY", "access")
	t.Setenv("CLEARML_API_SECRET_KEY", "secret")
	_, _, stderr = runCLI(t, "sync", archive, "--to", "clearml", "--clearml-api-host", "ftp://x", "--state-dir", t.TempDir())
	if !strings.Contains(stderr, "--clearml-api-host") || strings.Contains(stderr, " --api-host") {
		t.Errorf("bad address: %q", stderr)
	}
	_, stdout, _ := runCLI(t, "sync", archive, "--to", "comet-offline", "--out", t.TempDir(), "-v")
	if !strings.Contains(stdout, "gap dataset: ") || strings.Contains(stdout, "pass --data") || !strings.Contains(stdout, "to recover: capture again with --data") {
		t.Errorf("the dataset gap does not say to capture again with --data:\n%s", stdout)
	}
}

// TestCLI_OutFlag: -o/--out names where output goes in every command that
// writes files: an archive or a directory in capture, a directory in
// export and sync. The old spellings still work, unlisted.
func TestCLI_OutFlag(t *testing.T) {
	dir := t.TempDir()
	runs := []string{filepath.Join(fixtures, "detect"), filepath.Join(fixtures, "segment-val")}
	archives := filepath.Join(dir, "archives") + "/"
	if code, _, stderr := runCLI(t, append([]string{"capture", "-q", "-o", archives}, runs...)...); code != 0 {
		t.Fatalf("capture -o DIR/: exit %d: %s", code, stderr)
	}
	written, _ := filepath.Glob(filepath.Join(archives, "*.tar.zst"))
	if len(written) != 2 {
		t.Fatalf("capture -o DIR/ wrote %v, want 2 archives", written)
	}
	// An existing directory, without the slash; the old --out-dir.
	for _, flag := range []string{"--out", "--out-dir"} {
		out := t.TempDir()
		if code, _, stderr := runCLI(t, "capture", "-q", runs[1], flag, out); code != 0 {
			t.Fatalf("capture %s DIR: exit %d: %s", flag, code, stderr)
		}
		if m, _ := filepath.Glob(filepath.Join(out, "segment-val-*.tar.zst")); len(m) != 1 {
			t.Errorf("capture %s DIR wrote %v", flag, m)
		}
	}
	// An archive's name; the old --output.
	for _, flag := range []string{"-o", "--output"} {
		file := filepath.Join(dir, strings.TrimLeft(flag, "-")+".tar.zst")
		if code, _, stderr := runCLI(t, "capture", "-q", runs[1], flag, file); code != 0 {
			t.Fatalf("capture %s FILE: exit %d: %s", flag, code, stderr)
		}
		if _, err := os.Stat(file); err != nil {
			t.Errorf("capture %s FILE: %v", flag, err)
		}
	}
	// Neither an archive's name nor a directory: refused, not guessed.
	code, _, stderr := runCLI(t, "capture", runs[1], "-o", filepath.Join(dir, "nothing-yet"))
	if code != exitUsage || !strings.Contains(stderr, "nothing-yet") {
		t.Errorf("capture -o NEITHER: exit %d: %s", code, stderr)
	}
	// sync and export take -o for their directory too.
	zips := filepath.Join(dir, "zips")
	if code, _, stderr := runCLI(t, "sync", written[0], "--to", "comet-offline", "-o", zips, "-q"); code != 0 {
		t.Fatalf("sync -o: exit %d: %s", code, stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(zips, "*.zip")); len(m) != 1 {
		t.Errorf("sync -o wrote %v", m)
	}
	_, help, _ := runCLI(t, "capture", "--help")
	if !strings.Contains(help, "-o, --out=PATH") || strings.Contains(help, "--out-dir") || strings.Contains(help, "--output") {
		t.Errorf("capture --help does not show -o, --out alone:\n%s", help)
	}
}

// TestCLI_CaptureOutputFolderMade: capture -o FILE makes FILE's folder
// when it does not exist yet, as -o DIR does (it failed naming a
// temporary file: "open out/.x.tar.zst.yoloarchive-….tmp: no such file").
func TestCLI_CaptureOutputFolderMade(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "new", "deeper", "run.tar.zst")
	code, stdout, stderr := runCLI(t, "capture", filepath.Join(fixtures, "detect"), "-o", dst)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "verify", dst); code != 0 {
		t.Fatalf("verify %s: exit %d: %s", dst, code, stderr)
	}
}

// TestCLI_CaptureInterruptedOnce: a capture cut short by Ctrl-C says
// "interrupted" once, not also "failed: RUN: context canceled" for the
// run in progress (first contact: both lines were printed).
func TestCLI_CaptureInterruptedOnce(t *testing.T) {
	src := synctest.SynthRun(t, 50, 2, 160)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"capture", src, "-o", filepath.Join(t.TempDir(), "run.tar.zst")}, &stdout, &stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d (the capture ended before the cancel: make the run bigger)\n%s", code, exitInterrupted, stderr.String())
	}
	if strings.Contains(stderr.String(), "context canceled") || strings.Count(stderr.String(), "interrupted") != 1 {
		t.Errorf("stderr %q, want one line saying interrupted", stderr.String())
	}
}
