package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// mlflowStore is the fixture MLflow file store of convert/mlflowrun.
var mlflowStore = filepath.Join("..", "..", "convert", "mlflowrun", "testdata", "mlruns")

// TestCLI_CaptureMLflowStore: capture -r of an MLflow file store makes one
// archive per run; the store root alone says to use -r.
func TestCLI_CaptureMLflowStore(t *testing.T) {
	store := filepath.Join(t.TempDir(), "mlruns")
	if err := os.CopyFS(store, os.DirFS(mlflowStore)); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir() + "/"
	if code, _, stderr := runCLI(t, "capture", store, "-o", out); code == 0 || !strings.Contains(stderr, "--recursive") {
		t.Fatalf("capture of the store root: exit %d, stderr %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "capture", "-r", store, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	archives, _ := filepath.Glob(filepath.Join(out, "*.tar.zst"))
	if len(archives) != 1 || !strings.HasPrefix(filepath.Base(archives[0]), "detect-") {
		t.Fatalf("archives %v", archives)
	}
}

// TestCLI_CaptureRunsWithMLflowStore: capture -r of a runs/ folder holding
// a run directory and the MLflow store Ultralytics wrote beside it
// (runs/mlflow) makes one archive per run: the run directory's, with the
// MLflow run logged from it merged in as --session merges it, not two
// archives of the same run and not the run directory alone.
func TestCLI_CaptureRunsWithMLflowStore(t *testing.T) {
	work := t.TempDir()
	runDir := filepath.Join(work, "runs", "detect", "train")
	if err := os.CopyFS(runDir, os.DirFS(filepath.Join(synctest.Fixtures(), "detect"))); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(work, "runs", "mlflow")
	if err := os.CopyFS(store, os.DirFS(mlflowStore)); err != nil {
		t.Fatal(err)
	}
	const exp, run = "123456789012345678", "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
	// Training ran in work/ with the default project: save_dir relative.
	if err := os.WriteFile(filepath.Join(store, exp, run, "params", "save_dir"), []byte("runs/detect/train"), 0o644); err != nil {
		t.Fatal(err)
	}
	args, err := os.ReadFile(filepath.Join(runDir, "args.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	args = []byte(strings.Replace(string(args), "save_dir: /home/trainer/runs/detect", "save_dir: runs/detect/train", 1))
	if err := os.WriteFile(filepath.Join(runDir, "args.yaml"), args, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir() + "/"
	code, stdout, stderr := runCLI(t, "capture", "-r", filepath.Join(work, "runs"), "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	archives, _ := filepath.Glob(filepath.Join(out, "*.tar.zst"))
	if len(archives) != 1 {
		t.Fatalf("archives %v, want one\nstdout %s\nstderr %s", archives, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "inspect", archives[0])
	if code != 0 || !strings.Contains(stdout, run) {
		t.Fatalf("inspect: exit %d, the archive does not name the MLflow run %s as its session:\n%s%s", code, run, stdout, stderr)
	}
}
