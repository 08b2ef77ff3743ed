package comettest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

func TestAuth(t *testing.T) {
	s, c := newClient(t)
	for _, key := range []string{"", "WRONGKEY", "Bearer " + s.APIKey, s.APIKey + "x"} {
		bad := &client{t: t, s: s, key: key}
		r := bad.do(http.MethodPost, "write/experiment/create",
			map[string]any{"workspaceName": s.Workspace, "projectName": "p"})
		checkErr(t, r, "create with key "+key, 401, CodeInvalidAPIKey)
		if r.body["msg"] != "Invalid API key" {
			t.Errorf("msg = %v", r.body["msg"])
		}
		if key != "" && strings.Contains(string(r.raw), key) {
			t.Errorf("401 body echoes the key: %s", r.raw)
		}
		r = bad.do(http.MethodGet, "account-details", nil)
		checkErr(t, r, "account-details", 401, CodeInvalidAPIKey)
	}
	if n := s.Calls("write/experiment/create"); n != 0 {
		t.Errorf("Calls after auth failures = %d, want 0", n)
	}
	r := c.ok("account-details", nil)
	if r.body["userName"] != UserName || r.body["defaultWorkspaceName"] != DefaultWorkspace {
		t.Errorf("account-details = %s", r.raw)
	}
	if s.Calls("account-details") != 1 {
		t.Errorf("Calls(account-details) = %d", s.Calls("account-details"))
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	s, c := newClient(t)
	r := c.do(http.MethodGet, "experiment/nope", nil)
	if r.status != 404 || r.body["msg"] != "Not found" {
		t.Errorf("unknown path: %d %s", r.status, r.raw)
	}
	res, err := http.Get(s.URL + "/clientlib/logger/add/run")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("clientlib path: %d", res.StatusCode)
	}
	r = c.do(http.MethodGet, "write/experiment/create", nil)
	checkErr(t, r, "GET on a write endpoint", 405, 0)
	if s.URLOverride() != s.URL+"/clientlib/" {
		t.Errorf("URLOverride = %s", s.URLOverride())
	}
}

func TestFaultsWrapServer(t *testing.T) {
	s, c := newClient(t)
	s.Faults.Next(1, synctest.Fault{Kind: synctest.TooMany})
	r := c.do(http.MethodGet, "account-details", nil)
	if r.status != 429 {
		t.Fatalf("status %d, want 429", r.status)
	}
	if r.hdr.Get("Retry-After") != "1" || r.hdr.Get("Retry-After-Custom") != "1" {
		t.Errorf("headers: %v", r.hdr)
	}
	if s.Calls("account-details") != 0 {
		t.Errorf("a faulted request was counted")
	}
	c.ok("account-details", nil)
	if s.Faults.Count() != 2 || s.Faults.Injected()["429"] != 1 {
		t.Errorf("faults log: %d %v", s.Faults.Count(), s.Faults.Injected())
	}
}

func TestCreateExperiment(t *testing.T) {
	s, c := newClient(t)
	r := c.ok("write/experiment/create", map[string]any{
		"workspaceName": s.Workspace, "projectName": "yolo", "experimentName": "train7", "disableHeartBeat": false,
	})
	key, _ := r.body["experimentKey"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(key) {
		t.Fatalf("key %q", key)
	}
	if r.body["link"] != s.URL+"/test-ws/yolo/"+key || r.body["workspaceName"] != "test-ws" || r.body["projectName"] != "yolo" {
		t.Errorf("create answer %s", r.raw)
	}
	e, ok := s.Experiment(key)
	if !ok || e.Name != "train7" || !e.Alive || e.StartMillis == 0 || e.Project != "yolo" || e.Workspace != "test-ws" {
		t.Errorf("experiment %+v", e)
	}
	// Unknown workspace, then one added.
	c.fail("write/experiment/create", map[string]any{"workspaceName": "other", "projectName": "p"}, 400, CodeNoSuchWorkspace)
	s.AddWorkspace("other")
	c.ok("write/experiment/create", map[string]any{"workspaceName": "other", "projectName": "p"})
	r = c.ok("workspaces", nil)
	if ws, _ := r.body["workspaceNames"].([]any); len(ws) != 2 || ws[0] != "test-ws" || ws[1] != "other" {
		t.Errorf("workspaces %s", r.raw)
	}
	c.fail("write/experiment/create", map[string]any{"workspaceName": s.Workspace, "projectName": strings.Repeat("p", 100)}, 400, CodeProjectNameTooLong)
	c.ok("write/experiment/create", map[string]any{"workspaceName": s.Workspace, "projectName": strings.Repeat("p", 99)})
	c.fail("write/experiment/create", map[string]any{"workspaceName": s.Workspace}, 400, CodeNoProjectName)
	c.fail("write/experiment/create", map[string]any{"workspaceName": s.Workspace, "projectName": ""}, 400, CodeNoProjectName)
	if n := len(s.Experiments()); n != 3 {
		t.Errorf("%d experiments, want 3", n)
	}
}

func TestProjects(t *testing.T) {
	s, c := newClient(t)
	r := c.ok("write/project/create", map[string]any{"workspaceName": s.Workspace, "projectName": "p1", "projectDescription": "d", "isPublic": false})
	pid, _ := r.body["projectId"].(string)
	if pid == "" {
		t.Fatalf("no projectId: %s", r.raw)
	}
	r = c.fail("write/project/create", map[string]any{"workspaceName": s.Workspace, "projectName": "p1"}, 400, 0)
	if r.body["msg"] != "Project already exists" {
		t.Errorf("dup msg %v", r.body["msg"])
	}
	k1 := c.create("p1", "a")
	k2 := c.create("p2", "")
	r = c.ok("projects?workspaceName=test-ws", nil)
	ps, _ := r.body["projects"].([]any)
	if len(ps) != 2 || ps[0].(map[string]any)["projectId"] != pid || ps[1].(map[string]any)["projectName"] != "p2" {
		t.Errorf("projects %s", r.raw)
	}
	r = c.ok("experiments?workspaceName=test-ws&projectName=p1", nil)
	es, _ := r.body["experiments"].([]any)
	if len(es) != 1 {
		t.Fatalf("experiments %s", r.raw)
	}
	e := es[0].(map[string]any)
	if e["experimentKey"] != k1 || e["experimentName"] != "a" || e["projectId"] != pid || e["workspaceName"] != "test-ws" {
		t.Errorf("experiment %v", e)
	}
	r = c.ok("experiments?projectId="+pid, nil)
	if es, _ := r.body["experiments"].([]any); len(es) != 1 {
		t.Errorf("by projectId: %s", r.raw)
	}
	r = c.ok("experiments?workspaceName=test-ws&projectName=p2", nil)
	if es, _ := r.body["experiments"].([]any); len(es) != 1 || es[0].(map[string]any)["experimentKey"] != k2 {
		t.Errorf("p2: %s", r.raw)
	}
	r = c.ok("project?workspaceName=test-ws&projectName=p1", nil)
	if r.body["projectId"] != pid || r.body["projectName"] != "p1" {
		t.Errorf("project: %s", r.raw)
	}
}

// TestInvalidRequests: malformed requests are kept for InvalidRequests;
// answers about the server's state are not.
func TestInvalidRequests(t *testing.T) {
	s, c := newClient(t)
	s.NotFound = NotFound400
	key := c.create("p", "")
	c.fail("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": "0.5"}, 400, 0)
	c.fail("write/experiment/metric", map[string]any{"experimentKey": "0123456789abcdef0123456789abcdef", "metricName": "m", "metricValue": 1}, 400, CodeNoWriteAccess)
	checkErr(t, c.do(http.MethodGet, "experiments?workspaceName=test-ws&projectName=nope", nil), "unknown project", 400, 0)
	checkErr(t, c.do(http.MethodGet, "experiments?workspaceName=nope&projectName=p", nil), "unknown workspace", 400, CodeNoSuchWorkspace)
	checkErr(t, c.do(http.MethodGet, "experiment/log-other", nil), "no key", 400, 0)
	checkErr(t, c.do(http.MethodGet, "write/experiment/metric", nil), "GET on a write", 405, 0)
	got := s.InvalidRequests()
	want := []string{
		`write/experiment/metric: Field "metricValue": value must be one of 'NaN', 'Infinity', '-Infinity'`,
		"experiment/log-other: Missing required query parameter experimentKey",
		"write/experiment/metric: Method GET not allowed, use POST",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("InvalidRequests:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
