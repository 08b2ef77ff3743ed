package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// clearmlEnv points the ClearML variables at a fake server.
func clearmlEnv(t *testing.T) *clearmltest.Server {
	srv := clearmltest.New()
	t.Cleanup(srv.Close)
	t.Setenv("CLEARML_CONFIG_FILE", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CLEARML_API_HOST", srv.API.URL)
	t.Setenv("CLEARML_WEB_HOST", srv.WebURL())
	t.Setenv("CLEARML_FILES_HOST", srv.Files.URL)
	t.Setenv("CLEARML_API_ACCESS_KEY", srv.AccessKey)
	t.Setenv("CLEARML_API_SECRET_KEY", srv.SecretKey)
	return srv
}

func TestCLI_SyncClearML_Batch(t *testing.T) {
	srv := clearmlEnv(t)
	good := synctest.Capture(t, "detect-clearml")
	data, _ := os.ReadFile(good)
	bad := filepath.Join(t.TempDir(), "truncated.tar.zst")
	if err := os.WriteFile(bad, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	code, out, stderr := runCLI(t, "sync", good, bad, "--to", "clearml", "--json", "--state-dir", state, "-j", "2")
	if code != exitPartial {
		t.Fatalf("exit %d, want %d (partial); stderr %s", code, exitPartial, stderr)
	}
	byArchive := map[string]ysync.Result{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r ysync.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		byArchive[r.Archive] = r
	}
	if r := byArchive[good]; r.Status != ysync.StatusSynced || r.RemoteID == "" || r.URL == "" {
		t.Errorf("good archive: %+v", r)
	}
	if r := byArchive[bad]; r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "truncated.tar.zst") {
		t.Errorf("bad archive: %+v", r)
	}
	if n := len(srv.Tasks()); n != 1 {
		t.Errorf("%d tasks", n)
	}
	// Again: nothing new, exit 0 for the good one alone.
	code, out, _ = runCLI(t, "sync", good, "--to", "clearml", "--state-dir", state)
	if code != 0 || !strings.Contains(out, "up-to-date") {
		t.Errorf("re-sync: exit %d, %s", code, out)
	}
}

func TestCLI_SyncClearML_DryRunAndErrors(t *testing.T) {
	srv := clearmlEnv(t)
	good := synctest.Capture(t, "detect-clearml")
	code, out, _ := runCLI(t, "sync", good, "--to", "clearml", "--dry-run", "--project", "Team/YOLO", "--state-dir", t.TempDir())
	if code != 0 || !strings.Contains(out, `project "Team/YOLO", name "detect-clearml"`) || !strings.Contains(out, "42 scalars") && !strings.Contains(out, "scalars") {
		t.Errorf("dry run: exit %d, %s", code, out)
	}
	if len(srv.Tasks()) != 0 || len(srv.Projects()) != 0 || !strings.Contains(out, "would create") {
		t.Errorf("dry run: it created something, or did not say it would: %s", out)
	}
	t.Setenv("CLEARML_API_SECRET_KEY", "NOT-THE-SECRET-0000")
	code, _, stderr := runCLI(t, "sync", good, "--to", "clearml", "--state-dir", t.TempDir())
	if code != exitFailure || !strings.Contains(stderr, "rejected the access key") || strings.Contains(stderr, "NOT-THE-SECRET") {
		t.Errorf("bad key: exit %d, %s", code, stderr)
	}
	t.Setenv("CLEARML_API_HOST", "")
	code, _, stderr = runCLI(t, "sync", good, "--to", "clearml")
	if code != exitFailure || !strings.Contains(stderr, "CLEARML_API_HOST") {
		t.Errorf("no host: exit %d, %s", code, stderr)
	}
}

func TestCLI_SyncClearMLOffline(t *testing.T) {
	good := synctest.Capture(t, "detect-clearml")
	out := filepath.Join(t.TempDir(), "sessions")
	code, stdout, stderr := runCLI(t, "sync", good, "--to", "clearml-offline", "--out", out)
	if code != 0 || !strings.Contains(stdout, "written") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	zips, _ := filepath.Glob(filepath.Join(out, "offline-*.zip"))
	if len(zips) != 1 {
		t.Errorf("zips %v", zips)
	}
}

// cometEnv points the Comet variables at a fake server.
func cometEnv(t *testing.T) *comettest.Server {
	srv := comettest.New()
	t.Cleanup(srv.Close)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("COMET_CONFIG", "")
	t.Setenv("COMET_API_KEY", srv.APIKey)
	t.Setenv("COMET_URL_OVERRIDE", srv.URLOverride())
	t.Setenv("COMET_WORKSPACE", "")
	t.Setenv("COMET_PROJECT_NAME", "")
	return srv
}

func TestCLI_SyncComet(t *testing.T) {
	srv := cometEnv(t)
	good := synctest.Capture(t, "detect")
	state := t.TempDir()
	code, out, stderr := runCLI(t, "sync", good, "--to", "comet", "--json", "--state-dir", state, "--tags", "a,b")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	var r ysync.Result
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil || r.Status != ysync.StatusSynced {
		t.Fatalf("%v %+v", err, r)
	}
	x, ok := srv.Experiment(r.RemoteID)
	if !ok || strings.Join(x.Tags, ",") != "a,b" || len(x.Metrics) == 0 {
		t.Errorf("experiment %+v", x)
	}
	t.Setenv("COMET_API_KEY", "WRONG-KEY-123456789")
	code, _, stderr = runCLI(t, "sync", good, "--to", "comet", "--state-dir", t.TempDir())
	if code != exitFailure || !strings.Contains(stderr, "rejected the API key") || strings.Contains(stderr, "WRONG-KEY") {
		t.Errorf("bad key: exit %d %s", code, stderr)
	}
}

func TestCLI_SyncCometOffline(t *testing.T) {
	good := synctest.Capture(t, "segment-savejson")
	out := filepath.Join(t.TempDir(), "zips")
	code, stdout, stderr := runCLI(t, "sync", good, "--to", "comet-offline", "--out", out)
	if code != 0 || !strings.Contains(stdout, "written") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	zips, _ := filepath.Glob(filepath.Join(out, "*.zip"))
	if len(zips) != 1 || !strings.HasPrefix(filepath.Base(zips[0]), "segment-savejson-") {
		t.Errorf("zips %v", zips)
	}
}
