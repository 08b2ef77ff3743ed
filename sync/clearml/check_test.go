package clearml_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// apiCall matches a request to the API server: /service.action, with or
// without /v2.x/.
var apiCall = regexp.MustCompile(`^/(v2\.\d+/)?([a-z_]+\.[a-z_]+)$`)

// readEndpoints are the API calls that change nothing on the server.
var readEndpoints = map[string]bool{
	"auth.login": true, "projects.get_all": true, "projects.get_by_id": true,
	"tasks.get_all": true, "tasks.get_by_id": true, "events.get_task_events": true,
	"events.get_task_log": true, "models.get_all": true, "models.get_by_id": true,
}

// onlyReads fails the test if the fake received a request that writes:
// an API call not in readEndpoints, or a file server request other than
// GET or HEAD.
func onlyReads(t *testing.T, e *env) {
	t.Helper()
	reqs := e.srv.Faults.Requests()
	if len(reqs) == 0 {
		t.Error("the server received no request")
	}
	for _, r := range reqs {
		if m := apiCall.FindStringSubmatch(r.Path); m != nil {
			if !readEndpoints[m[2]] {
				t.Errorf("a write request: %s %s", r.Method, r.Path)
			}
		} else if r.Method != "GET" && r.Method != "HEAD" {
			t.Errorf("a write to the file server: %s %s", r.Method, r.Path)
		}
	}
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	e.r = e.destination(ysync.Options{Project: "Team/YOLO"})
	chk, err := ysync.Preflight(context.Background(), e.r, []string{"Ultralytics"})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(chk.Notes, "; ")
	for _, want := range []string{"logged in with the credentials", "file server", `project "Team/YOLO" does not exist yet`, `project "Ultralytics" does not exist yet`} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	onlyReads(t, e)
	if len(e.srv.Projects()) != 0 {
		t.Error("the check created a project")
	}
	// Once synced, the project exists.
	archive := synctest.Capture(t, "detect-clearml")
	if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	chk, err = ysync.Preflight(context.Background(), e.r, nil)
	if err != nil || !strings.Contains(strings.Join(chk.Notes, "; "), `project "Team/YOLO" exists`) {
		t.Errorf("after a sync: %v %v", chk.Notes, err)
	}
}

// Wrong credentials fail the preflight with one line that names where
// they came from and never the secret; the server answers 401/22 as
// auth.py does for keys it cannot locate.
func TestCheck_WrongCredentials(t *testing.T) {
	e := newEnv(t)
	e.cfg.SecretKey = "WRONG-SECRET-KEY-VALUE"
	e.cfg.KeySource = "api.credentials in /home/me/clearml.conf"
	e.r = e.destination(ysync.Options{})
	_, err := ysync.Preflight(context.Background(), e.r, nil)
	var pe *ysync.PreflightError
	if !errors.As(err, &pe) || pe.Cause != ysync.CauseCredentials {
		t.Fatalf("err %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "rejected the access key from api.credentials in /home/me/clearml.conf") || !strings.Contains(msg, "401/22") ||
		strings.Contains(msg, "WRONG-SECRET") || strings.Contains(msg, e.cfg.AccessKey) || strings.Contains(msg, "\n") {
		t.Errorf("message %q", msg)
	}
	// The host may have come from clearml.conf as well as from the
	// environment: the hint names every place it is set.
	if !strings.Contains(msg, "api.api_server in clearml.conf") || !strings.Contains(msg, "CLEARML_API_HOST") {
		t.Errorf("message %q does not say where the API host is set", msg)
	}
	if n := e.srv.Calls("auth.login"); n != 0 {
		t.Errorf("auth.login passed authentication %d times", n)
	}
	// A file server that is not the API server's refuses its token.
	e = newEnv(t)
	other := newEnv(t)
	e.cfg.FilesHost = other.srv.Files.URL
	e.r = e.destination(ysync.Options{})
	if _, err := ysync.Preflight(context.Background(), e.r, nil); ysync.Classify(err) != ysync.CauseCredentials ||
		!strings.Contains(err.Error(), "CLEARML_FILES_HOST") {
		t.Errorf("other file server: %v", err)
	}
}

// An unreachable server fails the preflight within seconds, whichever way
// it is out of reach, and never after a sync's retry budget.
func TestCheck_Unreachable(t *testing.T) {
	for _, how := range synctest.UnreachableModes {
		t.Run(string(how), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.cfg.APIHost = synctest.UnreachableURL(t, how)
			e.r = clearml.New(e.cfg, ysync.Options{}) // the default client options, as the CLI has them
			start := time.Now()
			_, err := ysync.Preflight(context.Background(), e.r, nil)
			took := time.Since(start)
			if ysync.Classify(err) != ysync.CauseUnreachable || strings.Contains(err.Error(), "\n") {
				t.Errorf("err %v", err)
			}
			if took > ysync.PreflightTimeout+2*time.Second {
				t.Errorf("took %v", took)
			}
			t.Logf("%s: %v: %v", how, took.Round(100*time.Millisecond), err)
		})
	}
}
