package clearmltest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	s := New()
	defer s.Close()

	r := rawCall(t, s, "POST", "/auth.login", "", "application/json", "{}")
	checkErr(t, r, "login without auth", 401, 20)

	bad := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.AccessKey+":wrongsecret"))
	r = rawCall(t, s, "POST", "/auth.login", bad, "application/json", "{}")
	checkErr(t, r, "bad basic", 401, 22)
	if strings.Contains(r.raw, "wrongsecret") || strings.Contains(r.raw, s.SecretKey) {
		t.Fatalf("secret echoed: %s", r.raw)
	}
	r = rawCall(t, s, "POST", "/auth.login", "Token abc", "application/json", "{}")
	checkErr(t, r, "bad scheme", 401, 10)

	r = rawCall(t, s, "POST", "/auth.login", basic(s), "application/json", "{}")
	if r.status != 200 {
		t.Fatalf("login: %s", r.raw)
	}
	tok := r.data()["token"].(string)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token not JWT-shaped: %q", tok)
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		Exp, Iat   int64
		APIVersion string `json:"api_version"`
	}
	if err := json.Unmarshal(pb, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.APIVersion != "2.31" || payload.Exp-payload.Iat != 30*24*3600 {
		t.Fatalf("payload %+v", payload)
	}
	ep := r.meta()["endpoint"].(map[string]any)
	if ep["name"] != "auth.login" || ep["requested_version"] != "2.31" || ep["actual_version"] != "2.1" {
		t.Fatalf("endpoint meta %v", ep)
	}

	// expiration_sec in the body and in the query string.
	for _, c := range []struct {
		path string
		body string
	}{{"/auth.login", `{"expiration_sec": 3600}`}, {"/auth.login?expiration_sec=3600", ""}} {
		r = rawCall(t, s, "GET", c.path, basic(s), "application/json", c.body)
		if r.status != 200 {
			t.Fatalf("login %s: %s", c.path, r.raw)
		}
		pb, _ = base64.RawURLEncoding.DecodeString(strings.Split(r.data()["token"].(string), ".")[1])
		_ = json.Unmarshal(pb, &payload)
		if payload.Exp-payload.Iat != 3600 {
			t.Fatalf("%s: lifetime %d", c.path, payload.Exp-payload.Iat)
		}
	}
	r = rawCall(t, s, "POST", "/auth.login", basic(s), "application/json", `{"expiration_sec": "1h"}`)
	checkErr(t, r, "expiration_sec string", 400, 12)

	// Bearer and Basic work on API endpoints.
	for _, a := range []string{"Bearer " + tok, basic(s)} {
		r = rawCall(t, s, "POST", "/projects.get_all", a, "application/json", "{}")
		if r.status != 200 {
			t.Fatalf("%s: %s", a[:6], r.raw)
		}
	}
	r = rawCall(t, s, "POST", "/projects.get_all", "Bearer nonsense", "application/json", "{}")
	checkErr(t, r, "unknown token", 401, 30)

	s.ExpireTokens()
	r = rawCall(t, s, "POST", "/projects.get_all", "Bearer "+tok, "application/json", "{}")
	checkErr(t, r, "expired token", 401, 30)
	r = rawCall(t, s, "POST", "/projects.get_all", "", "application/json", "{}")
	checkErr(t, r, "missing auth", 401, 20)

	if got := s.Calls("projects.get_all"); got != 2 {
		t.Fatalf("Calls = %d, want 2 (only authenticated requests)", got)
	}
}

func TestValidation(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)

	hp := func(v any) map[string]any {
		return map[string]any{"General": map[string]any{"epochs": map[string]any{"section": "General", "name": "epochs", "value": v}}}
	}
	cases := []struct {
		name, endpoint string
		body           any
		code, sub      int
		msg            string // in result_msg, if set
	}{
		{"unknown field", "tasks.create", map[string]any{"name": "abc", "type": "training", "bogus": 1}, 400, 12,
			"field 'bogus' is not in the schema; the real server would drop it"},
		{"missing name", "tasks.create", map[string]any{"type": "training"}, 400, 12, "missing property 'name'"},
		{"missing type", "tasks.create", map[string]any{"name": "abc"}, 400, 12, ""},
		{"bad enum", "tasks.create", map[string]any{"name": "abc", "type": "trainingx"}, 400, 12, "field 'type'"},
		{"short name", "tasks.create", map[string]any{"name": "ab", "type": "training"}, 400, 800, ""},
		{"name not string", "tasks.create", map[string]any{"name": 123, "type": "training"}, 400, 12, ""},
		{"tags not array", "tasks.create", map[string]any{"name": "abc", "type": "training", "tags": "x"}, 400, 12, ""},
		{"param value number", "tasks.create", map[string]any{"name": "abc", "type": "training", "hyperparams": hp(100)}, 400, 12, ""},
		{"param unknown key", "tasks.create", map[string]any{"name": "abc", "type": "training",
			"hyperparams": map[string]any{"G": map[string]any{"x": map[string]any{"value": "1", "bad": "1"}}}}, 400, 12, ""},
		{"runtime not object", "tasks.create", map[string]any{"name": "abc", "type": "training", "runtime": "a=1"}, 400, 12, ""},
		{"nested unknown field", "tasks.create", map[string]any{"name": "abc", "type": "training",
			"script": map[string]any{"repository": "r", "commit": "abc"}}, 400, 12, "field 'script.commit'"},
		{"unknown project", "tasks.create", map[string]any{"name": "abc", "type": "training", "project": "nope"}, 400, 401, ""},
		{"body not object", "tasks.create", []any{1}, 400, 12, ""},
		{"body not json", "tasks.create", "{oops", 400, 12, ""},
		{"edit_hyper_params unknown task", "tasks.edit_hyper_params", map[string]any{"task": "x",
			"hyperparams": []any{map[string]any{"section": "General", "name": "a", "value": "1"}}}, 400, 101, ""},
		{"replace_hyperparams enum", "tasks.edit_hyper_params", map[string]any{"task": "x",
			"hyperparams": []any{}, "replace_hyperparams": "some"}, 400, 12, ""},
		{"get_by_id unknown", "tasks.get_by_id", map[string]any{"task": "nope"}, 400, 101, ""},
		{"started unknown", "tasks.started", map[string]any{"task": "nope"}, 400, 101, ""},
		{"bad regex", "projects.get_all", map[string]any{"name": "^(abc$"}, 400, 21, ""},
		{"project name short", "projects.create", map[string]any{"name": "ab"}, 400, 800, ""},
		{"iteration float", "models.edit", map[string]any{"model": "x", "iteration": 1.5}, 400, 12, ""},
		{"labels not int", "models.create", map[string]any{"uri": "u", "name": "n", "labels": map[string]any{"a": "1"}}, 400, 12, ""},
		{"models.create missing uri", "models.create", map[string]any{"name": "n"}, 400, 12, ""},
		{"unknown model", "models.get_by_id", map[string]any{"model": "nope"}, 400, 201, ""},
		{"metrics filter bad", "events.get_task_events", map[string]any{"task": "x", "metrics": []any{map[string]any{"variants": []any{"a"}}}}, 400, 12, ""},
		{"page_size string", "tasks.get_all", map[string]any{"page_size": "10"}, 400, 12, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.fail(tc.endpoint, tc.body, tc.code, tc.sub)
			msg := r.meta()["result_msg"].(string)
			if tc.sub == 12 && !strings.HasPrefix(msg, "Validation error (") || !strings.Contains(msg, tc.msg) {
				t.Fatalf("result_msg %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	if len(s.Tasks()) != 0 {
		t.Fatalf("invalid requests created tasks")
	}
	// null values are dropped before validation.
	c.ok("tasks.create", map[string]any{"name": "abc", "type": "training", "comment": nil})
	if s.Calls("tasks.create") != 15 {
		t.Fatalf("Calls(tasks.create) = %d", s.Calls("tasks.create"))
	}
}

func TestRouting(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	auth := "Bearer " + c.token

	r := rawCall(t, s, "POST", "/tasks.nonexistent", auth, "application/json", "{}")
	checkErr(t, r, "unknown endpoint", 404, 0)
	if !strings.Contains(r.meta()["result_msg"].(string), "Unable to find endpoint for name tasks.nonexistent and version 2.31") {
		t.Fatalf("msg %q", r.meta()["result_msg"])
	}
	r = rawCall(t, s, "POST", "/v2.5/tasks.edit_hyper_params", auth, "application/json", "{}")
	checkErr(t, r, "endpoint too new for version", 404, 0)
	r = rawCall(t, s, "POST", "/v2.14/models.update_for_task", auth, "application/json", `{"task": "x"}`)
	checkErr(t, r, "update_for_task", 301, 0)
	// Validation comes before the call, as on the server.
	r = rawCall(t, s, "POST", "/v2.14/models.update_for_task", auth, "application/json", "{}")
	checkErr(t, r, "update_for_task without task", 400, 12)
	// Below the oldest schema the fake cannot validate, and says so.
	r = rawCall(t, s, "POST", "/v2.5/tasks.get_all", auth, "application/json", "{}")
	if r.status != 500 || !strings.Contains(r.meta()["result_msg"].(string), "clearmltest: no schema for tasks.get_all at API 2.5") {
		t.Fatalf("old version: %s", r.raw)
	}
	r = rawCall(t, s, "POST", "/v2.20/projects.get_all", auth, "application/json", "{}")
	if r.status != 200 || r.meta()["endpoint"].(map[string]any)["requested_version"] != "2.20" {
		t.Fatalf("versioned path: %s", r.raw)
	}
	r = rawCall(t, s, "GET", "/projects.get_all?search_hidden=true", auth, "application/json", "")
	if r.status != 200 {
		t.Fatalf("GET with query: %s", r.raw)
	}
	r = rawCall(t, s, "POST", "/projects.get_all", auth, "application/json", "{}", "Content-Encoding", "gzip")
	if r.status != 415 {
		t.Fatalf("Content-Encoding: %d", r.status)
	}
}

func TestProjects(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.ok("projects.create", map[string]any{"name": "Ultralytics", "description": "", "tags": []any{}, "system_tags": []any{}})["id"].(string)
	if len(id) != 32 {
		t.Fatalf("id %q", id)
	}
	c.fail("projects.create", map[string]any{"name": "Ultralytics"}, 400, 801)
	c.ok("projects.create", map[string]any{"name": "Ultralytics-2"})
	sub := c.ok("projects.create", map[string]any{"name": "Root/Mid/Leaf"})["id"].(string)

	d := c.ok("projects.get_all", map[string]any{"name": "^Ultralytics$", "only_fields": []any{"id"}, "search_hidden": true})
	ps := d["projects"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["id"] != id || ps[0].(map[string]any)["name"] != nil {
		t.Fatalf("get_all: %v", ps)
	}
	all := s.Projects()
	if len(all) != 5 {
		t.Fatalf("projects: %+v", all)
	}
	var leaf Project
	for _, p := range all {
		if p.ID == sub {
			leaf = p
		}
	}
	if leaf.Name != "Root/Mid/Leaf" || leaf.Basename != "Leaf" || leaf.Parent == "" {
		t.Fatalf("leaf %+v", leaf)
	}
	d = c.ok("projects.get_all", map[string]any{"shallow_search": true})
	if n := len(d["projects"].([]any)); n != 3 {
		t.Fatalf("shallow: %d", n)
	}
	d = c.ok("projects.get_all", map[string]any{"page": 1, "page_size": 2, "order_by": []any{"name"}})
	if ps := d["projects"].([]any); len(ps) != 2 || ps[0].(map[string]any)["name"] != "Root/Mid/Leaf" {
		t.Fatalf("paged: %v", ps)
	}
}

func TestTaskLifecycle(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	pid := c.ok("projects.create", map[string]any{"name": "Ultralytics"})["id"].(string)
	id := c.ok("tasks.create", map[string]any{
		"name": "train3", "type": "training", "project": pid, "tags": []any{"Ultralytics", "fp:abc"},
		"system_tags": []any{}, "comment": "hello", "output_dest": "http://files",
		"hyperparams": map[string]any{"General": map[string]any{
			"epochs": map[string]any{"section": "General", "name": "epochs", "value": "100", "type": "int", "description": ""}}},
		"configuration": map[string]any{"args.yaml": map[string]any{"name": "args.yaml", "value": "a: 1\n", "type": "yaml"}},
		"runtime":       map[string]any{"k": "v"},
	})["id"].(string)
	if len(id) != 32 {
		t.Fatalf("task id %q", id)
	}
	tk, ok := s.Task(id)
	if !ok || tk.Status != "created" || tk.Hyperparams["General"]["epochs"].Value != "100" ||
		tk.Configuration["args.yaml"].Type != "yaml" || tk.Runtime["k"] != "v" || tk.Project != pid {
		t.Fatalf("task %+v", tk)
	}

	c.ok("tasks.edit", map[string]any{"task": id, "comment": "edited"})
	c.ok("tasks.edit_hyper_params", map[string]any{"task": id, "hyperparams": []any{
		map[string]any{"section": "General", "name": "lr0", "value": "0.01", "type": "float"}}})
	c.ok("tasks.edit_configuration", map[string]any{"task": id, "configuration": []any{
		map[string]any{"name": "other", "value": "x"}}})
	c.fail("tasks.completed", map[string]any{"task": id}, 400, 110)

	d := c.ok("tasks.started", map[string]any{"task": id})
	if d["started"] != float64(1) || d["updated"] != float64(1) {
		t.Fatalf("started: %v", d)
	}
	c.fail("tasks.started", map[string]any{"task": id}, 400, 110)
	c.fail("tasks.edit", map[string]any{"task": id, "comment": "x"}, 400, 110)
	c.ok("tasks.edit", map[string]any{"task": id, "force": true, "runtime": map[string]any{"a": "b"}})
	c.fail("tasks.edit_hyper_params", map[string]any{"task": id, "hyperparams": []any{}}, 400, 110)
	c.ok("tasks.edit_hyper_params", map[string]any{"task": id, "force": true, "replace_hyperparams": "section",
		"hyperparams": []any{map[string]any{"section": "General", "name": "batch", "value": "16"}}})
	c.ok("tasks.ping", map[string]any{"task": id})

	mid := c.ok("models.create", map[string]any{"uri": "http://files/x/best.pt", "name": "train3", "framework": "PyTorch",
		"task": id, "project": pid, "labels": map[string]any{"person": 0}})["id"].(string)
	c.fail("tasks.add_or_update_model", map[string]any{"task": id, "name": "best", "type": "output", "model": "nope"}, 400, 201)
	c.ok("tasks.add_or_update_model", map[string]any{"task": id, "name": "best", "type": "output", "model": mid})
	c.ok("tasks.add_or_update_model", map[string]any{"task": id, "name": "best", "type": "output", "model": mid})

	c.ok("tasks.completed", map[string]any{"task": id, "status_reason": "completed"})
	c.fail("tasks.completed", map[string]any{"task": id}, 400, 110)
	c.fail("tasks.edit_hyper_params", map[string]any{"task": id, "force": true, "hyperparams": []any{}}, 400, 110)
	c.fail("tasks.edit_configuration", map[string]any{"task": id, "force": true, "configuration": []any{}}, 400, 110)
	c.fail("tasks.add_or_update_model", map[string]any{"task": id, "name": "best", "type": "output", "model": mid}, 400, 110)
	c.fail("tasks.started", map[string]any{"task": id}, 400, 110)
	c.ok("tasks.update", map[string]any{"task": id, "tags": []any{"Ultralytics", "fp:abc", "done"}})
	c.ok("tasks.edit", map[string]any{"task": id, "force": true, "comment": "forced"})

	tk, _ = s.Task(id)
	if tk.Status != "completed" || tk.Comment != "forced" || len(tk.Models) != 1 || tk.Models[0] != (ModelRef{"best", mid}) ||
		tk.Hyperparams["General"]["lr0"].Value != "" || tk.Hyperparams["General"]["batch"].Value != "16" ||
		tk.Runtime["a"] != "b" || len(tk.Configuration) != 2 || tk.Started.IsZero() || tk.Completed.IsZero() || tk.Pings != 1 {
		t.Fatalf("final task %+v", tk)
	}

	other := c.ok("tasks.create", map[string]any{"name": "train4", "type": "training", "project": pid, "tags": []any{"Ultralytics"}})["id"].(string)
	d = c.ok("tasks.get_all", map[string]any{"project": []any{pid}, "tags": []any{"fp:abc"}, "only_fields": []any{"id", "status"}})
	ts := d["tasks"].([]any)
	if len(ts) != 1 || ts[0].(map[string]any)["id"] != id || ts[0].(map[string]any)["status"] != "completed" || ts[0].(map[string]any)["name"] != nil {
		t.Fatalf("get_all by tag: %v", ts)
	}
	d = c.ok("tasks.get_all", map[string]any{"tags": []any{"Ultralytics", "fp:abc"}})
	if len(d["tasks"].([]any)) != 1 {
		t.Fatalf("all-of tags: %v", d)
	}
	d = c.ok("tasks.get_all", map[string]any{"tags": []any{"__$any", "done", "nothing"}})
	if len(d["tasks"].([]any)) != 1 {
		t.Fatalf("any-of tags: %v", d)
	}
	d = c.ok("tasks.get_by_id", map[string]any{"task": other})
	task := d["task"].(map[string]any)
	if task["status"] != "created" || task["models"].(map[string]any)["output"] == nil {
		t.Fatalf("get_by_id: %v", task)
	}
	d = c.ok("tasks.get_by_id", map[string]any{"task": id})
	task = d["task"].(map[string]any)
	out := task["models"].(map[string]any)["output"].([]any)
	if len(out) != 1 || out[0].(map[string]any)["model"] != mid {
		t.Fatalf("models.output %v", out)
	}

	// created → stopped refused, failed allowed.
	c.fail("tasks.stopped", map[string]any{"task": other}, 400, 110)
	c.ok("tasks.failed", map[string]any{"task": other})
	c.ok("tasks.stopped", map[string]any{"task": other, "force": true})
}

func TestModels(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	d := c.ok("models.create", map[string]any{"uri": "http://f/uploading_file", "name": "Anonymous model", "labels": map[string]any{}})
	mid := d["id"].(string)
	if d["created"] != true {
		t.Fatalf("create: %v", d)
	}
	c.ok("models.edit", map[string]any{"model": mid, "name": "train3", "uri": "http://f/p/best.pt", "framework": "PyTorch",
		"iteration": 99, "design": map[string]any{"design": ""}, "labels": map[string]any{"person": 0, "car": 2}})
	c.fail("models.edit", map[string]any{"model": "nope", "name": "x"}, 400, 201)
	c.fail("models.edit", map[string]any{"model": mid, "task": "nope"}, 400, 101)
	ms := s.Models()
	if len(ms) != 1 || ms[0].Name != "train3" || ms[0].Iteration != 99 || ms[0].Labels["car"] != 2 || ms[0].Framework != "PyTorch" {
		t.Fatalf("models %+v", ms)
	}
	d = c.ok("models.get_all", map[string]any{"name": "^train3$", "framework": []any{"PyTorch"}})
	if len(d["models"].([]any)) != 1 {
		t.Fatalf("get_all %v", d)
	}
	d = c.ok("models.get_by_id", map[string]any{"model": mid})
	if d["model"].(map[string]any)["uri"] != "http://f/p/best.pt" {
		t.Fatalf("get_by_id %v", d)
	}
}

func TestArtifactsAndSingleEvent(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	art := map[string]any{"key": "results.csv", "type": "custom", "uri": "http://f/results.csv", "content_size": 12,
		"hash": "abc", "timestamp": 1714557600, "type_data": map[string]any{"preview": "results.csv - 12 B\n", "content_type": "text/csv"},
		"display_data": []any{[]any{"epochs", "100"}}}
	c.ok("tasks.add_or_update_artifacts", map[string]any{"task": id, "artifacts": []any{art}})
	art["hash"] = "def"
	c.ok("tasks.add_or_update_artifacts", map[string]any{"task": id, "artifacts": []any{art}})
	c.fail("tasks.add_or_update_artifacts", map[string]any{"task": id, "artifacts": []any{map[string]any{"key": "x"}}}, 400, 12)
	tk, _ := s.Task(id)
	if len(tk.Artifacts) != 1 || tk.Artifacts[0].Hash != "def" || tk.Artifacts[0].Mode != "output" || tk.Artifacts[0].ContentSize != 12 {
		t.Fatalf("artifacts %+v", tk.Artifacts)
	}
	d := c.ok("tasks.get_by_id", map[string]any{"task": id})
	if a := d["task"].(map[string]any)["execution"].(map[string]any)["artifacts"].([]any); len(a) != 1 {
		t.Fatalf("execution.artifacts %v", a)
	}

	c.ok("events.add", map[string]any{"type": "log", "task": id, "msg": "single"})
	c.fail("events.add", map[string]any{"type": "log", "task": id, "msg": "single", "extra": 1}, 400, 12)
	if evs := s.Events(id); len(evs) != 1 || evs[0].Msg != "single" || evs[0].Timestamp == 0 {
		t.Fatalf("events %+v", evs)
	}

	// Model events go to the model id.
	mid := c.ok("models.create", map[string]any{"uri": "u", "name": "m"})["id"].(string)
	r := c.events(jsonLine(t, map[string]any{"type": "training_stats_scalar", "task": mid, "model_event": true,
		"iter": 3, "metric": "a", "variant": "b", "value": 1}))
	if r.status != 200 || len(s.Events(mid)) != 1 {
		t.Fatalf("model event: %s", r.raw)
	}
	d = c.ok("events.get_task_events", map[string]any{"task": mid, "model_events": true})
	if d["total"] != float64(1) {
		t.Fatalf("model events read: %v", d)
	}
}
