package comet_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// onlyReads fails the test unless the server received requests, all of
// them GET (Comet's REST writes and uploads are POSTs).
func onlyReads(t *testing.T, e *env) {
	t.Helper()
	reqs := e.srv.Faults.Requests()
	if len(reqs) == 0 {
		t.Error("the server received no request")
	}
	for _, r := range reqs {
		if r.Method != http.MethodGet {
			t.Errorf("a write request: %s %s", r.Method, r.Path)
		}
	}
}

func TestCheck(t *testing.T) {
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		e.cfg.Project = "yolo-team"
		e.r = e.remote(t, comet.Options{})
		chk, err := ysync.Preflight(context.Background(), e.r, []string{"other"})
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(chk.Notes, "; ")
		for _, want := range []string{"the API key from COMET_API_KEY is ", `workspace "` + e.srv.Workspace + `" (the key's default)`,
			`project "yolo-team" does not exist yet`, `project "other" does not exist yet`} {
			if !strings.Contains(notes, want) {
				t.Errorf("notes %q lack %q", notes, want)
			}
		}
		onlyReads(t, e)
		// A workspace the key has, named.
		e.cfg.Workspace = e.srv.Workspace
		e.r = e.remote(t, comet.Options{})
		if chk, err := ysync.Preflight(context.Background(), e.r, nil); err != nil || !strings.Contains(strings.Join(chk.Notes, "; "), `workspace "`+e.srv.Workspace+`"`) {
			t.Errorf("named workspace: %v %v", chk, err)
		}
		// One it does not have: refused, with the key's workspaces.
		e.cfg.Workspace = "someone-else"
		e.r = e.remote(t, comet.Options{})
		_, err = ysync.Preflight(context.Background(), e.r, nil)
		if ysync.Classify(err) != ysync.CauseRefused || !strings.Contains(err.Error(), `no workspace "someone-else"`) ||
			!strings.Contains(err.Error(), e.srv.Workspace) || !strings.Contains(err.Error(), "COMET_WORKSPACE") {
			t.Errorf("other workspace: %v", err)
		}
	})
}

// A key the server does not know fails the preflight with one line that
// names where it came from, never the key: as the fake answers (401 with
// sdk_error_code 90212), and as comet-api.md §4.3 says servers also do
// (400 or 403 with 90212).
func TestCheck_WrongKey(t *testing.T) {
	check := func(t *testing.T, url string) {
		t.Helper()
		r, err := comet.New(comet.Config{APIKey: "WRONG-KEY-123456789", URL: url, KeySource: "api_key in /home/me/.comet.config"}, comet.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ysync.Preflight(context.Background(), r, nil)
		var pe *ysync.PreflightError
		if !errors.As(err, &pe) || pe.Cause != ysync.CauseCredentials {
			t.Fatalf("err %v", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "rejected the API key from api_key in /home/me/.comet.config") ||
			strings.Contains(msg, "WRONG-KEY") || strings.Contains(msg, "\n") {
			t.Errorf("message %q", msg)
		}
	}
	t.Run("fake", func(t *testing.T) {
		e := newEnv(t)
		check(t, e.srv.URLOverride())
	})
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(fmt.Sprintf(`{"msg":"api key not registered","code":%d,"sdk_error_code":90212}`, status)))
			}))
			defer srv.Close()
			check(t, srv.URL+"/clientlib/")
		})
	}
}

// An unreachable server fails the preflight within seconds.
func TestCheck_Unreachable(t *testing.T) {
	for _, how := range synctest.UnreachableModes {
		t.Run(string(how), func(t *testing.T) {
			t.Parallel()
			r, err := comet.New(comet.Config{APIKey: "K", URL: synctest.UnreachableURL(t, how) + "/clientlib/"}, comet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = ysync.Preflight(context.Background(), r, nil)
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
