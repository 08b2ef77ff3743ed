package clearmltest

import (
	"io/fs"
	"path"
	"strings"
	"testing"
)

// TestSchemas_Compile: every schema file compiles, loose and strict, and
// every endpoint the fake serves has a schema at the newest version.
func TestSchemas_Compile(t *testing.T) {
	files, err := fs.Glob(schemaFiles, "schemas/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	for _, f := range files {
		sv, ep := path.Base(path.Dir(f)), strings.TrimSuffix(path.Base(f), ".json")
		for _, resp := range []bool{false, true} {
			if _, err := schemaFor(sv, ep, resp); err != nil {
				t.Errorf("%s (response %v): %v", f, resp, err)
			}
		}
	}
	for name := range endpoints {
		if schemaVersion(name, "2.23") == "" {
			t.Errorf("%s: no schema at 2.23", name)
		}
	}
}

// TestSchemas_Strict: fields a schema does not name are refused at every
// depth, also next to anyOf branches; the fields the server's code reads
// anyway are accepted; maps and free objects stay open.
func TestSchemas_Strict(t *testing.T) {
	scalar := func(extra map[string]any) map[string]any {
		e := map[string]any{"type": "training_stats_scalar", "task": "t", "iter": 1, "metric": "m", "variant": "v", "value": 1.5}
		for k, v := range extra {
			e[k] = v
		}
		return e
	}
	cases := []struct {
		name, version, endpoint string
		body                    map[string]any
		unknown                 string // "" if valid
	}{
		{"event", "2.23", "events.add", scalar(nil), ""},
		{"event sibling fields", "2.23", "events.add", scalar(map[string]any{"model_event": true, "allow_locked": false}), ""},
		{"event sibling fields before 2.22", "2.20", "events.add", scalar(map[string]any{"model_event": true}), "model_event"},
		{"scalar with an image's key", "2.23", "events.add", scalar(map[string]any{"key": "k"}), "key"},
		{"log with iter", "2.23", "events.add", map[string]any{"type": "log", "task": "t", "msg": "m", "iter": 1}, "iter"},
		{"runtime read by tasks.create", "2.23", "tasks.create", map[string]any{"name": "abc", "type": "training", "runtime": map[string]any{"a": "b"}}, ""},
		{"free objects stay open", "2.23", "tasks.edit", map[string]any{"task": "t", "runtime": map[string]any{"a": 1},
			"script": map[string]any{"requirements": map[string]any{"pip": "x"}}, "container": map[string]any{"image": "i"}}, ""},
		{"param item", "2.23", "tasks.edit", map[string]any{"task": "t", "hyperparams": map[string]any{"General": map[string]any{
			"epochs": map[string]any{"section": "General", "name": "epochs", "value": "3", "unit": "x"}}}}, "hyperparams.General.epochs.unit"},
		{"artifact", "2.23", "tasks.add_or_update_artifacts", map[string]any{"task": "t", "artifacts": []any{
			map[string]any{"key": "k", "type": "custom", "type_data": map[string]any{"preview": "p", "size": 1}}}}, "artifacts.0.type_data.size"},
		{"runtime not in tasks.edit at 2.9", "2.9", "tasks.edit", map[string]any{"task": "t", "runtime": map[string]any{}}, "runtime"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateRequest(tc.version, tc.endpoint, plainToJSON(t, tc.body))
			switch {
			case tc.unknown == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.unknown != "" && (err == nil || !strings.Contains(err.msg, "field '"+tc.unknown+"' is not in the schema")):
				t.Fatalf("err = %v, want field %q refused", err, tc.unknown)
			}
		})
	}
}

// plainToJSON round-trips a Go value through JSON, as a request body
// arrives.
func plainToJSON(t *testing.T, v any) any {
	t.Helper()
	out, err := decodeJSON([]byte(jsonLine(t, v)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemas_ResponseChecked: an answer the response schema does not
// allow is a 500 from the fake, naming the field.
func TestSchemas_ResponseChecked(t *testing.T) {
	ok := map[string]any{"tasks": []any{map[string]any{"id": "x", "name": "abc", "status": "created"}}}
	if err := validateResponse("2.23", "tasks.get_all", []byte(jsonLine(t, ok))); err != nil {
		t.Fatalf("valid answer refused: %v", err)
	}
	bad := map[string]any{"tasks": []any{map[string]any{"id": "x", "last_iteration_time": 5}}}
	err := validateResponse("2.23", "tasks.get_all", []byte(jsonLine(t, bad)))
	if err == nil || err.code != 500 || !strings.Contains(err.msg, "'tasks.0.last_iteration_time'") {
		t.Fatalf("err = %v", err)
	}
	wrong := map[string]any{"tasks": []any{map[string]any{"id": "x", "status": "running"}}}
	if err := validateResponse("2.23", "tasks.get_all", []byte(jsonLine(t, wrong))); err == nil || err.code != 500 {
		t.Fatalf("bad status accepted: %v", err)
	}
	// Fields that only later versions have are left out of older answers.
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	for _, v := range schemaVersions {
		r := rawCall(t, s, "POST", "/v"+v+"/tasks.get_by_id", "Bearer "+c.token, "application/json", map[string]any{"task": id})
		if r.status != 200 {
			t.Fatalf("%s: %s", v, r.raw)
		}
		_, hasRuntime := r.data()["task"].(map[string]any)["runtime"]
		if hasRuntime != !verLess(v, "2.20") {
			t.Errorf("%s: runtime in the answer: %v", v, hasRuntime)
		}
	}
}

// TestUnknownIDs: what the server answers for names and ids it does not
// know: empty lists from *.get_all, 400/101 (task), 400/201 (model) and
// 400/401 (project) from calls that need one.
func TestUnknownIDs(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	for ep, body := range map[string]map[string]any{
		"projects.get_all": {"name": "^nope$", "only_fields": []any{"id"}, "search_hidden": true},
		"tasks.get_all":    {"id": []any{"nope"}, "system_tags": []any{"yoloarchive-run:x"}},
		"models.get_all":   {"task": []any{"nope"}, "only_fields": []any{"id", "uri"}},
	} {
		d := c.ok(ep, body)
		for k, v := range d {
			if list, ok := v.([]any); !ok || len(list) != 0 {
				t.Errorf("%s: %s = %v, want []", ep, k, v)
			}
		}
	}
	c.fail("tasks.get_by_id", map[string]any{"task": "nope"}, 400, 101)
	c.fail("tasks.edit", map[string]any{"task": "nope", "force": true}, 400, 101)
	c.fail("tasks.completed", map[string]any{"task": "nope", "force": true}, 400, 101)
	c.fail("tasks.add_or_update_model", map[string]any{"task": "nope", "name": "best", "type": "output", "model": "m"}, 400, 101)
	c.fail("events.get_task_events", map[string]any{"task": "nope"}, 400, 101)
	c.fail("events.get_task_events", map[string]any{"task": "nope", "model_events": true}, 400, 201)
	c.fail("models.get_by_id", map[string]any{"model": "nope"}, 400, 201)
	c.fail("tasks.create", map[string]any{"name": "abc", "type": "training", "project": "nope"}, 400, 401)
	r := c.events(jsonLine(t, map[string]any{"type": "log", "task": "nope", "msg": "m"}))
	checkErr(t, r, "events of an unknown task", 400, 131)
}
