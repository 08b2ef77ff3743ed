package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

const fixtures = "../../testdata/ultralytics-8.3.166"

// runCLI runs the command line in-process and returns the exit code and
// output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCLI_Help(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "Exit codes: 0 all succeeded; 1 failed; 3 partial") {
		t.Errorf("--help: code %d, output %q", code, out)
	}
	code, out, _ = runCLI(t, "capture", "--help")
	if code != 0 || !strings.Contains(out, "--no-weights") || !strings.Contains(out, "Exit codes") {
		t.Errorf("capture --help: code %d, output %q", code, out)
	}
}

func TestCLI_Usage(t *testing.T) {
	for _, args := range [][]string{
		{"nonsense"},
		{"capture"},
		{"capture", "a", "b", "-o", "x.tar.zst"},
		{"verify"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
}

func TestCLI_CaptureInspectVerify(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seg.tar.zst")
	code, stdout, stderr := runCLI(t, "capture", filepath.Join(fixtures, "segment-savejson"),
		"--data", filepath.Join(fixtures, "datasets/segment/data.yaml"), "-o", out)
	if code != 0 {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, out) || !strings.Contains(stdout, "60 scalars") {
		t.Errorf("capture output %q", stdout)
	}
	code, stdout, _ = runCLI(t, "verify", out)
	if code != 0 || !strings.HasPrefix(stdout, "ok ") {
		t.Errorf("verify: exit %d: %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "inspect", out)
	for _, want := range []string{"segment train, status finished", "metrics/mAP50-95(M)", "dataset_image", "\ngaps (", "model_info", "prediction    368 on 8 images"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	if code != 0 {
		t.Errorf("inspect: exit %d", code)
	}
	code, stdout, _ = runCLI(t, "inspect", "--json", out)
	var rep struct {
		Run struct {
			RunID string `json:"run_id"`
			Task  string `json:"task"`
		} `json:"run"`
		Tables []struct {
			Table string `json:"table"`
			Rows  int64  `json:"rows"`
		} `json:"tables"`
		Metrics []struct {
			Metric string `json:"metric"`
			Points int    `json:"points"`
		} `json:"metrics"`
		Gaps []struct {
			Item string `json:"item"`
		} `json:"gaps"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
		t.Fatalf("inspect --json: %v (exit %d)", err, code)
	}
	if rep.Run.Task != "segment" || len(rep.Tables) != 9 || len(rep.Metrics) != 20 || len(rep.Gaps) == 0 {
		t.Errorf("inspect --json = %+v", rep)
	}
}

// TestCLI_PartialFailure captures a good and a bad run: the good one is
// written, the bad one is reported, and the exit code is 3.
func TestCLI_PartialFailure(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "args.yaml"), []byte("task: detect\n"), 0o644)
	os.WriteFile(filepath.Join(bad, "results.csv"), []byte("epoch,time,a\n1,2\n"), 0o644)
	outDir := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "capture", "--json", "-o", outDir, filepath.Join(fixtures, "detect"), bad)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitPartial, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines, want 2: %q", len(lines), stdout)
	}
	var statuses []string
	for _, l := range lines {
		var r struct {
			Source, Status, Error string
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, r.Status)
		if r.Status == "failed" && !strings.Contains(r.Error, "results.csv:2:") {
			t.Errorf("error %q does not name results.csv:2", r.Error)
		}
	}
	if sort.Strings(statuses); !reflect.DeepEqual(statuses, []string{"failed", "ok"}) {
		t.Errorf("statuses = %v, want one failed and one ok", statuses)
	}
	ents, _ := filepath.Glob(filepath.Join(outDir, "*.tar.zst"))
	if len(ents) != 1 || !strings.HasPrefix(filepath.Base(ents[0]), "detect-") {
		t.Errorf("out dir holds %v, want the one good archive", ents)
	}
	if code, _, _ := runCLI(t, "capture", bad, "-o", filepath.Join(dir, "x.tar.zst")); code != exitFailure {
		t.Errorf("all failed: exit %d, want %d", code, exitFailure)
	}
}

func TestCLI_Recursive(t *testing.T) {
	outDir := t.TempDir()
	code, stdout, stderr := runCLI(t, "capture", "-r", "-j", "2", "-o", outDir, fixtures)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	paths, _ := filepath.Glob(filepath.Join(outDir, "*.tar.zst"))
	if len(paths) != 5 { // detect, detect-clearml, detect-savejson, segment-savejson, segment-val
		t.Errorf("%d archives, want 5: %s", len(paths), stdout)
	}
	if code, stdout, _ := runCLI(t, append([]string{"verify"}, paths...)...); code != 0 || strings.Count(stdout, "ok ") != 5 {
		t.Errorf("verify: exit %d: %s", code, stdout)
	}
	// Again: the ledger knows every run, nothing is captured.
	code, stdout, stderr = runCLI(t, "capture", "-r", "-o", outDir, "--json", fixtures)
	if code != 0 || strings.Count(stdout, `"status":"unchanged"`) != 5 {
		t.Errorf("second capture: exit %d: %s %s", code, stdout, stderr)
	}
	// A changed run is captured again; --force captures all.
	touched := filepath.Join(t.TempDir(), "detect")
	if err := os.CopyFS(touched, os.DirFS(filepath.Join(fixtures, "detect"))); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "capture", "-r", "-o", outDir, touched)
	future := time.Now().Add(time.Hour) // a rewrite of results.csv
	os.Chtimes(filepath.Join(touched, "results.csv"), future, future)
	code, stdout, _ = runCLI(t, "capture", "-r", "-o", outDir, "--json", touched)
	if code != 0 || !strings.Contains(stdout, `"status":"ok"`) {
		t.Errorf("changed run: exit %d: %s", code, stdout)
	}
	code, stdout, _ = runCLI(t, "capture", "-r", "-o", outDir, "--json", "--force", fixtures)
	if code != 0 || strings.Count(stdout, `"status":"ok"`) != 5 {
		t.Errorf("--force: exit %d: %s", code, stdout)
	}
}

func TestCLI_VerifyFailures(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar.zst")
	if code, _, stderr := runCLI(t, "capture", filepath.Join(fixtures, "detect"), "-o", good); code != 0 {
		t.Fatal(stderr)
	}
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.tar.zst")
	os.WriteFile(truncated, data[:len(data)*2/3], 0o644)
	flipped := filepath.Join(dir, "flipped.tar.zst")
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0x01
	os.WriteFile(flipped, bad, 0o644)

	code, stdout, _ := runCLI(t, "verify", good, truncated, flipped)
	if code != exitPartial {
		t.Errorf("exit %d, want %d", code, exitPartial)
	}
	if !strings.Contains(stdout, "failed  "+truncated+": entry") || !strings.Contains(stdout, "archive: truncated") ||
		!strings.Contains(stdout, "copy it again") {
		t.Errorf("truncated archive not reported: %q", stdout)
	}
	if !strings.Contains(stdout, "failed  "+flipped) {
		t.Errorf("flipped byte not reported: %q", stdout)
	}
	if code, _, _ := runCLI(t, "verify", truncated); code != exitFailure {
		t.Errorf("only bad archives: exit %d, want %d", code, exitFailure)
	}
	if code, _, stderr := runCLI(t, "inspect", truncated); code != exitFailure || !strings.Contains(stderr, "truncated") {
		t.Errorf("inspect of a truncated archive: exit %d, stderr %q", code, stderr)
	}
}

func TestCLI_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	out := t.TempDir()
	code := run(ctx, []string{"capture", filepath.Join(fixtures, "detect"), "-o", out}, &stdout, &stderr)
	if code != exitInterrupted {
		t.Errorf("exit %d, want %d", code, exitInterrupted)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// TestCLI_Export exports a good and a damaged archive: the good one is
// written, the damaged one reported on its own line, exit code 3.
func TestCLI_Export(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "detect.tar.zst")
	if code, _, stderr := runCLI(t, "capture", filepath.Join(fixtures, "detect"), "-o", good); code != 0 {
		t.Fatalf("capture: %s", stderr)
	}
	data, _ := os.ReadFile(good)
	bad := filepath.Join(dir, "bad.tar.zst")
	os.WriteFile(bad, data[:len(data)-100], 0o644)
	out := filepath.Join(dir, "dataset")
	code, stdout, stderr := runCLI(t, "export", good, bad, "--format", "csv", "-o", out, "--json")
	if code != 3 || strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, `"status":"failed"`) || strings.Contains(stderr, "\n\n") {
		t.Errorf("export: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	m, _ := filepath.Glob(filepath.Join(out, "table=*", "run=*", "part-0.csv"))
	if len(m) != 9 {
		t.Errorf("%d CSV files, want one per table", len(m))
	}
}

// TestCLI_RecursiveFindsSessions: --recursive finds ClearML sessions
// (folder or zip; a zip beside its own folder counts once) and Comet zips.
func TestCLI_RecursiveFindsSessions(t *testing.T) {
	root := t.TempDir()
	sess := filepath.Join(fixtures, "detect-clearml", "clearml_offline_session")
	if err := os.CopyFS(filepath.Join(root, "clearml"), os.DirFS(sess)); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "zips"), 0o755)
	data, _ := os.ReadFile(filepath.Join(sess, "offline-65072dc9b8014849a4dc396a0eb301ec.zip"))
	os.WriteFile(filepath.Join(root, "zips", "copy.zip"), data, 0o644)
	os.WriteFile(filepath.Join(root, "zips", "notes.zip"), []byte("not a zip"), 0o644)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "capture", "-r", "-o", out, "--json", root)
	// The folder holding the session (and its zip) is one source; the
	// copied zip is the same run: captured once, reported as a duplicate.
	if code != 0 || strings.Count(stdout, `"status":"ok"`) != 1 || strings.Count(stdout, `"status":"duplicate"`) != 1 {
		t.Errorf("exit %d: %s %s", code, stdout, stderr)
	}
	for _, want := range []string{filepath.Join(root, "clearml") + `"`, filepath.Join(root, "zips", "copy.zip") + `"`} {
		if !strings.Contains(stdout, `"source":"`+want) {
			t.Errorf("%s not found: %s", want, stdout)
		}
	}
}

// TestCLI_LedgerSeesSessions: a run captured with --session is captured
// again when its session changes, not reported unchanged.
func TestCLI_LedgerSeesSessions(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "runs", "detect-clearml")
	if err := os.CopyFS(run, os.DirFS(filepath.Join(fixtures, "detect-clearml"))); err != nil {
		t.Fatal(err)
	}
	sess := filepath.Join(root, "session")
	if err := os.CopyFS(sess, os.DirFS(filepath.Join(fixtures, "detect-clearml", "clearml_offline_session", "offline-65072dc9b8014849a4dc396a0eb301ec"))); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	args := []string{"capture", "-o", out, "--json", "--session", sess, run}
	if code, stdout, stderr := runCLI(t, args...); code != 0 || !strings.Contains(stdout, `"status":"ok"`) {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if _, stdout, _ := runCLI(t, args...); !strings.Contains(stdout, `"status":"unchanged"`) {
		t.Errorf("second capture: %s", stdout)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(sess, "log.jsonl"), later, later)
	if _, stdout, _ := runCLI(t, args...); !strings.Contains(stdout, `"status":"ok"`) {
		t.Errorf("after the session changed: %s", stdout)
	}
}
