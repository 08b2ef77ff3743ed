package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/mlflowtest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCLI_SyncMLflow: sync --to mlflow reads the MLFLOW_* variables,
// syncs, is up to date the second time, and never prints the password;
// a wrong password is one line; sync --to mlflow-dir -o DIR writes a
// store that a second run leaves with one run.
func TestCLI_SyncMLflow(t *testing.T) {
	srv := mlflowtest.New()
	srv.Auth = mlflowtest.AuthBasic
	t.Cleanup(srv.Close)
	archive := synctest.Capture(t, synctest.SynthRun(t, 3, 0, 0))
	t.Setenv("MLFLOW_TRACKING_URI", srv.URL)
	t.Setenv("MLFLOW_TRACKING_USERNAME", srv.Username)
	t.Setenv("MLFLOW_TRACKING_PASSWORD", "wrong-"+srv.Password)
	state := t.TempDir()
	code, out, stderr := runCLI(t, "sync", archive, "--to", "mlflow", "--state-dir", state)
	if code != exitFailure || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "MLFLOW_TRACKING_PASSWORD") || strings.Contains(out+stderr, srv.Password) {
		t.Fatalf("wrong password: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	t.Setenv("MLFLOW_TRACKING_PASSWORD", srv.Password)
	for _, want := range []string{"synced", "up-to-date"} {
		code, out, stderr = runCLI(t, "sync", archive, "--to", "mlflow", "--state-dir", state)
		if code != 0 || !strings.Contains(out, ": "+want+" "+srv.URL+"/#/experiments/") || strings.Contains(out+stderr, srv.Password) {
			t.Fatalf("want %s: exit %d\nstdout %s\nstderr %s", want, code, out, stderr)
		}
	}
	if n := len(srv.Runs()); n != 1 {
		t.Fatalf("%d runs", n)
	}
	dir := filepath.Join(t.TempDir(), "mlruns")
	for range 2 {
		if code, out, stderr = runCLI(t, "sync", archive, "--to", "mlflow-dir", "-o", dir); code != 0 || !strings.Contains(out, ": written ") {
			t.Fatalf("mlflow-dir: exit %d\nstdout %s\nstderr %s", code, out, stderr)
		}
	}
	s, err := filestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exps, err := s.Experiments()
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	for _, x := range exps {
		rs, err := s.Runs(x.ID)
		if err != nil {
			t.Fatal(err)
		}
		runs += len(rs)
	}
	if runs != 1 {
		t.Fatalf("the store holds %d runs after two syncs", runs)
	}
}

// TestCLI_SyncMLflowFlags: the registry's mlflow kinds refuse --tags with
// the reason, take -o only for mlflow-dir, and are listed in --help.
func TestCLI_SyncMLflowFlags(t *testing.T) {
	archive := synctest.Capture(t, synctest.SynthRun(t, 1, 0, 0))
	for _, to := range []string{"mlflow", "mlflow-dir"} {
		code, out, stderr := runCLI(t, "sync", archive, "--to", to, "--tags", "a")
		if code != exitUsage || !strings.Contains(stderr, "--tags: Ultralytics' MLflow callback logs no tags") {
			t.Errorf("--to %s --tags: exit %d\nstdout %s\nstderr %s", to, code, out, stderr)
		}
	}
	code, out, stderr := runCLI(t, "sync", archive, "--to", "mlflow", "-o", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, "-o is for offline exports") || !strings.Contains(stderr, "mlflow-dir") {
		t.Errorf("--to mlflow -o: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	_, help, _ := runCLI(t, "sync", "--help")
	help = strings.Join(strings.Fields(help), " ")
	for _, want := range []string{"mlflow (an MLflow tracking server's REST API", "mlflow-dir (an MLflow file store", "./mlruns"} {
		if !strings.Contains(help, want) {
			t.Errorf("sync --help lacks %q", want)
		}
	}
}
