package mlflowtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/synctest/faults"
)

// answer is one decoded answer.
type answer struct {
	status int
	body   map[string]any
	raw    string
	header http.Header
}

func (a answer) code() string { s, _ := a.body["error_code"].(string); return s }

func newServer(t *testing.T) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	return s
}

func do(t *testing.T, s *Server, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch s.Auth {
	case AuthBasic:
		req.SetBasicAuth(s.Username, s.Password)
	case AuthBearer:
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw), header: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func post(t *testing.T, s *Server, endpoint string, body any) answer {
	return do(t, s, http.MethodPost, TrackingPrefix+endpoint, body)
}

func get(t *testing.T, s *Server, endpointAndQuery string) answer {
	return do(t, s, http.MethodGet, TrackingPrefix+endpointAndQuery, nil)
}

func want(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.code() != code {
		t.Fatalf("answer %d %s (%s), want %d %s", a.status, a.code(), a.raw, status, code)
	}
}

// createRun makes an experiment and a run in it and returns the run id.
func createRun(t *testing.T, s *Server, tags ...map[string]string) (expID, runID string) {
	t.Helper()
	a := get(t, s, "experiments/get-by-name?experiment_name=yolo")
	if a.status == http.StatusNotFound {
		a = post(t, s, "experiments/create", map[string]any{"name": "yolo"})
		want(t, a, 200, "")
		expID = a.body["experiment_id"].(string)
	} else {
		expID = a.body["experiment"].(map[string]any)["experiment_id"].(string)
	}
	var kvs []map[string]string
	for _, m := range tags {
		for k, v := range m {
			kvs = append(kvs, map[string]string{"key": k, "value": v})
		}
	}
	a = post(t, s, "runs/create", map[string]any{"experiment_id": expID, "run_name": "detect", "start_time": 1700000000000, "tags": kvs})
	want(t, a, 200, "")
	return expID, a.body["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
}

func noInvalid(t *testing.T, s *Server) {
	t.Helper()
	if inv := s.InvalidRequests(); len(inv) > 0 {
		t.Errorf("invalid requests: %q", inv)
	}
}

func TestServer_Experiments(t *testing.T) {
	s := newServer(t)
	want(t, get(t, s, "experiments/get-by-name?experiment_name=yolo"), 404, "RESOURCE_DOES_NOT_EXIST")
	a := get(t, s, "experiments/get-by-name?experiment_name=Default")
	want(t, a, 200, "")
	if id := a.body["experiment"].(map[string]any)["experiment_id"]; id != "0" {
		t.Errorf("Default experiment id %v", id)
	}
	a = post(t, s, "experiments/create", map[string]any{"name": "yolo"})
	want(t, a, 200, "")
	if a.body["experiment_id"] != "1" {
		t.Errorf("created %v", a.body)
	}
	want(t, post(t, s, "experiments/create", map[string]any{"name": "yolo"}), 400, "RESOURCE_ALREADY_EXISTS")
	want(t, get(t, s, "experiments/get?experiment_id=1"), 200, "")
	want(t, get(t, s, "experiments/get?experiment_id=9"), 404, "RESOURCE_DOES_NOT_EXIST")
	noInvalid(t, s)
	want(t, post(t, s, "experiments/create", map[string]any{}), 400, "INVALID_PARAMETER_VALUE")
	want(t, post(t, s, "experiments/create", map[string]any{"name": 5}), 400, "INVALID_PARAMETER_VALUE")
	want(t, get(t, s, "experiments/get-by-name"), 400, "INVALID_PARAMETER_VALUE")
	if n := len(s.InvalidRequests()); n != 3 {
		t.Errorf("invalid requests %q, want 3", s.InvalidRequests())
	}
}

func TestServer_RunLifecycle(t *testing.T) {
	s := newServer(t)
	expID, id := createRun(t, s, map[string]string{"yoloarchive.run_id": "abc"})
	batch := map[string]any{"run_id": id,
		"metrics": []map[string]any{
			{"key": "train/box_loss", "value": 6.57574, "timestamp": 1700000001000, "step": 0},
			{"key": "train/box_loss", "value": "NaN", "timestamp": "1700000002000", "step": "1"},
			{"key": "lr/pg0", "value": 1.429e-05, "timestamp": 1700000001000},
		},
		"params": []map[string]any{{"key": "lr0", "value": "0.01"}, {"key": "classes", "value": "None"}},
		"tags":   []map[string]any{{"key": "mlflow.user", "value": "trainer"}},
	}
	want(t, post(t, s, "runs/log-batch", batch), 200, "")
	a := post(t, s, "runs/update", map[string]any{"run_id": id, "status": "FINISHED", "end_time": 1700000099000})
	want(t, a, 200, "")
	if st := a.body["run_info"].(map[string]any)["status"]; st != "FINISHED" {
		t.Errorf("update answered status %v", st)
	}
	a = get(t, s, "runs/get?run_id="+id)
	want(t, a, 200, "")
	info := a.body["run"].(map[string]any)["info"].(map[string]any)
	if info["status"] != "FINISHED" || info["end_time"] != 1700000099000.0 || info["artifact_uri"] != "mlflow-artifacts:/"+expID+"/"+id+"/artifacts" {
		t.Errorf("info %v", info)
	}
	r, ok := s.Run(id)
	if !ok {
		t.Fatal("no run")
	}
	if r.Params["lr0"] != "0.01" || r.Tags["mlflow.runName"] != "detect" || r.Tags["yoloarchive.run_id"] != "abc" || r.Tags["mlflow.user"] != "trainer" {
		t.Errorf("params %v tags %v", r.Params, r.Tags)
	}
	h := r.Metrics["train/box_loss"]
	if len(h) != 2 || h[0].Value != 6.57574 || !math.IsNaN(h[1].Value) || h[1].Step != 1 || h[1].Timestamp != 1700000002000 {
		t.Errorf("history %+v", h)
	}
	if r.Metrics["lr/pg0"][0].Step != 0 {
		t.Error("a metric without step must get step 0")
	}
	if r.Info.Status != filestore.Finished {
		t.Errorf("status %v", r.Info.Status)
	}
	noInvalid(t, s)
}

func TestServer_LogBatchRefusals(t *testing.T) {
	metrics := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"key": "m", "value": 1, "timestamp": 1, "step": i}
		}
		return out
	}
	kvs := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"key": fmt.Sprint("k", i), "value": "v"}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		batch  map[string]any
		status int
		code   string
	}{
		{"1000 metrics", map[string]any{"metrics": metrics(1000)}, 200, ""},
		{"1001 metrics", map[string]any{"metrics": metrics(1001)}, 400, "INVALID_PARAMETER_VALUE"},
		{"100 params", map[string]any{"params": kvs(100)}, 200, ""},
		{"101 params", map[string]any{"params": kvs(101)}, 400, "INVALID_PARAMETER_VALUE"},
		{"101 tags", map[string]any{"tags": kvs(101)}, 400, "INVALID_PARAMETER_VALUE"},
		{"1001 entities", map[string]any{"metrics": metrics(950), "params": kvs(51)}, 400, "INVALID_PARAMETER_VALUE"},
		{"metric without timestamp", map[string]any{"metrics": []map[string]any{{"key": "m", "value": 1}}}, 400, "INVALID_PARAMETER_VALUE"},
		{"metric without value", map[string]any{"metrics": []map[string]any{{"key": "m", "timestamp": 1}}}, 400, "INVALID_PARAMETER_VALUE"},
		{"metric value text", map[string]any{"metrics": []map[string]any{{"key": "m", "value": "high", "timestamp": 1}}}, 400, "INVALID_PARAMETER_VALUE"},
		{"metric name with parens", map[string]any{"metrics": []map[string]any{{"key": "metrics/mAP50(B)", "value": 1, "timestamp": 1}}}, 400, "INVALID_PARAMETER_VALUE"},
		{"negative timestamp", map[string]any{"metrics": []map[string]any{{"key": "m", "value": 1, "timestamp": -1}}}, 400, "INVALID_PARAMETER_VALUE"},
		{"param without key", map[string]any{"params": []map[string]any{{"value": "v"}}}, 400, "INVALID_PARAMETER_VALUE"},
		{"duplicate param keys", map[string]any{"params": []map[string]any{{"key": "a", "value": "1"}, {"key": "a", "value": "1"}}}, 400, "INVALID_PARAMETER_VALUE"},
		{"escaping key", map[string]any{"tags": []map[string]any{{"key": "../x", "value": "1"}}}, 400, "INVALID_PARAMETER_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			_, id := createRun(t, s)
			tc.batch["run_id"] = id
			want(t, post(t, s, "runs/log-batch", tc.batch), tc.status, tc.code)
			if tc.status != 200 {
				if r, _ := s.Run(id); len(r.Metrics)+len(r.Params) > 0 {
					t.Error("a refused batch left data behind")
				}
			}
		})
	}
	t.Run("unknown run", func(t *testing.T) {
		s := newServer(t)
		want(t, post(t, s, "runs/log-batch", map[string]any{"run_id": strings.Repeat("a", 32)}), 404, "RESOURCE_DOES_NOT_EXIST")
	})
	t.Run("request over 1 MB", func(t *testing.T) {
		s := newServer(t)
		_, id := createRun(t, s)
		s.LongValues = TruncateLong // so that only the request size is at fault
		big := map[string]any{"run_id": id, "params": []map[string]any{{"key": "p", "value": strings.Repeat("x", 1_000_001)}}}
		a := post(t, s, "runs/log-batch", big)
		want(t, a, 400, "INVALID_PARAMETER_VALUE")
		if !strings.Contains(a.body["message"].(string), "at most 1000000 bytes") {
			t.Errorf("message %v", a.body["message"])
		}
	})
	t.Run("no content type", func(t *testing.T) {
		s := newServer(t)
		req, _ := http.NewRequest(http.MethodPost, s.URL+TrackingPrefix+"runs/log-batch", strings.NewReader(`{"run_id":"x"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestServer_ParamChange(t *testing.T) {
	s := newServer(t)
	_, id := createRun(t, s)
	p := func(v string) map[string]any {
		return map[string]any{"run_id": id, "params": []map[string]any{{"key": "lr0", "value": v}}, "metrics": []map[string]any{{"key": "m", "value": 1, "timestamp": 1}}}
	}
	want(t, post(t, s, "runs/log-batch", p("0.01")), 200, "")
	want(t, post(t, s, "runs/log-batch", p("0.01")), 200, "")
	a := post(t, s, "runs/log-batch", p("0.02"))
	want(t, a, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(a.body["message"].(string), "Changing param values is not allowed") {
		t.Errorf("message %v", a.body["message"])
	}
	if r, _ := s.Run(id); len(r.Metrics["m"]) != 2 || r.Params["lr0"] != "0.01" {
		t.Errorf("after the refusal: %v %v", r.Params, r.Metrics)
	}
	noInvalid(t, s) // a changed param is an answer about state
}

func TestServer_LongValues(t *testing.T) {
	for _, mode := range LongValueModes {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			s := newServer(t)
			s.LongValues = mode
			_, id := createRun(t, s)
			long := strings.Repeat("é", filestore.MaxParamValueLength+1)
			a := post(t, s, "runs/log-batch", map[string]any{"run_id": id, "params": []map[string]any{{"key": "p", "value": long}}})
			r, _ := s.Run(id)
			if mode == RefuseLong {
				want(t, a, 400, "INVALID_PARAMETER_VALUE")
			} else {
				want(t, a, 200, "")
				if n := len([]rune(r.Params["p"])); n != filestore.MaxParamValueLength {
					t.Errorf("kept %d characters", n)
				}
			}
			ok := strings.Repeat("é", filestore.MaxParamValueLength)
			want(t, post(t, s, "runs/log-batch", map[string]any{"run_id": id, "params": []map[string]any{{"key": "q", "value": ok}}}), 200, "")
		})
	}
}

func TestServer_Search(t *testing.T) {
	s := newServer(t)
	expID, a := createRun(t, s, map[string]string{"yoloarchive.run_id": "run-a"})
	_, b := createRun(t, s, map[string]string{"yoloarchive.run_id": "run-b", "team": "vision"})
	search := func(filter string, max int, token string) answer {
		body := map[string]any{"experiment_ids": []string{expID}, "filter": filter}
		if max > 0 {
			body["max_results"] = max
		}
		if token != "" {
			body["page_token"] = token
		}
		return post(t, s, "runs/search", body)
	}
	ids := func(a answer) []string {
		var out []string
		runs, _ := a.body["runs"].([]any)
		for _, r := range runs {
			out = append(out, r.(map[string]any)["info"].(map[string]any)["run_id"].(string))
		}
		return out
	}
	for _, f := range []string{"tags.`yoloarchive.run_id` = 'run-b'", `tags."yoloarchive.run_id" = "run-b"`, "tags.yoloarchive.run_id = 'run-b'",
		"tags.`yoloarchive.run_id` = 'run-b' and tags.team = 'vision'", "tags.team LIKE 'vis%'", "tags.team ILIKE 'VIS_ON'"} {
		r := search(f, 0, "")
		want(t, r, 200, "")
		if got := ids(r); len(got) != 1 || got[0] != b {
			t.Errorf("%s: %v, want [%s]", f, got, b)
		}
	}
	r := search("tags.`yoloarchive.run_id` = 'none'", 0, "")
	want(t, r, 200, "")
	if len(ids(r)) != 0 || r.raw != "{}" {
		t.Errorf("no match answered %s, want {}", r.raw)
	}
	r = search("tags.`yoloarchive.run_id` != 'run-b'", 0, "")
	if got := ids(r); len(got) != 1 || got[0] != a {
		t.Errorf("!=: %v", got)
	}
	// Paging: one per page, same start time so run id order.
	var all []string
	tok := ""
	for i := 0; i < 3; i++ {
		r := search("", 1, tok)
		want(t, r, 200, "")
		all = append(all, ids(r)...)
		tok, _ = r.body["next_page_token"].(string)
		if tok == "" {
			break
		}
	}
	if len(all) != 2 || all[0] > all[1] {
		t.Errorf("paged %v", all)
	}
	noInvalid(t, s)
	for _, tc := range []struct{ filter, why string }{
		{"tags.x = 'a' OR tags.y = 'b'", "OR is a parse error"},
		{"tags.x = a", "unquoted value"},
		{"tags.x > 'a'", "tag comparator"},
		{"colours.x = 'a'", "unknown entity"},
		{"tags.x = 'a' AND", "dangling AND"},
		{"tags.x = 'a", "unterminated string"},
		{"metrics.loss > 0.5", "unsupported by the fake"},
		{"attributes.status = 'FINISHED'", "unsupported by the fake"},
	} {
		want(t, search(tc.filter, 0, ""), 400, "INVALID_PARAMETER_VALUE")
	}
	want(t, search("", 50001, ""), 400, "INVALID_PARAMETER_VALUE")
	want(t, search("", 0, "bm90IGpzb24="), 400, "INVALID_PARAMETER_VALUE")
	want(t, search("", 0, "%%%"), 400, "INVALID_PARAMETER_VALUE")
}

func TestServer_MetricHistory(t *testing.T) {
	for _, mode := range HistoryModes {
		t.Run(mode.String(), func(t *testing.T) {
			s := newServer(t)
			s.History = mode
			_, id := createRun(t, s)
			var ms []map[string]any
			for i := 0; i < 5; i++ {
				ms = append(ms, map[string]any{"key": "train/box_loss", "value": float64(i) / 2, "timestamp": 1000 + i, "step": i})
			}
			want(t, post(t, s, "runs/log-batch", map[string]any{"run_id": id, "metrics": ms}), 200, "")
			q := "metrics/get-history?run_id=" + id + "&metric_key=train/box_loss&max_results=2"
			a := get(t, s, q)
			want(t, a, 200, "")
			got := len(a.body["metrics"].([]any))
			tok, _ := a.body["next_page_token"].(string)
			if mode == HistoryFileStore {
				if got != 5 || tok != "" {
					t.Errorf("file store: %d points, token %q; want all 5, none", got, tok)
				}
				want(t, get(t, s, q+"&page_token="+pageToken(2)), 500, "INTERNAL_ERROR")
				return
			}
			steps := []float64{}
			for tok != "" || got > 0 {
				for _, m := range a.body["metrics"].([]any) {
					steps = append(steps, m.(map[string]any)["step"].(float64))
				}
				if tok == "" {
					break
				}
				a = get(t, s, q+"&page_token="+tok)
				want(t, a, 200, "")
				tok, _ = a.body["next_page_token"].(string)
				got = len(a.body["metrics"].([]any))
			}
			if fmt.Sprint(steps) != "[0 1 2 3 4]" {
				t.Errorf("paged steps %v", steps)
			}
		})
	}
	s := newServer(t)
	_, id := createRun(t, s)
	a := get(t, s, "metrics/get-history?run_id="+id+"&metric_key=absent")
	if a.status != 200 || a.raw != "{}" {
		t.Errorf("absent metric: %d %s", a.status, a.raw)
	}
	want(t, get(t, s, "metrics/get-history?run_id="+id), 400, "INVALID_PARAMETER_VALUE")
}

func TestServer_Artifacts(t *testing.T) {
	s := newServer(t)
	expID, id := createRun(t, s)
	put := func(p string, b []byte) answer {
		return do(t, s, http.MethodPut, ArtifactsPrefix+"/"+expID+"/"+id+"/artifacts/"+p, b)
	}
	want(t, put("weights/best.pt", []byte("best")), 200, "")
	want(t, put("results.csv", []byte("epoch\n")), 200, "")
	want(t, put("..%2F..%2Fescape", []byte("x")), 400, "INVALID_PARAMETER_VALUE")
	r, _ := s.Run(id)
	if string(r.Artifacts["weights/best.pt"]) != "best" || len(r.Artifacts) != 2 {
		t.Errorf("artifacts %v", r.Artifacts)
	}
	a := get(t, s, "artifacts/list?run_id="+id)
	want(t, a, 200, "")
	if a.body["root_uri"] != "mlflow-artifacts:/"+expID+"/"+id+"/artifacts" {
		t.Errorf("root_uri %v", a.body["root_uri"])
	}
	b, _ := json.Marshal(a.body["files"])
	if string(b) != `[{"file_size":6,"is_dir":false,"path":"results.csv"},{"is_dir":true,"path":"weights"}]` {
		t.Errorf("files %s", b)
	}
	a = get(t, s, "artifacts/list?run_id="+id+"&path=weights")
	b, _ = json.Marshal(a.body["files"])
	if string(b) != `[{"file_size":4,"is_dir":false,"path":"weights/best.pt"}]` {
		t.Errorf("weights files %s", b)
	}
	a = do(t, s, http.MethodGet, ArtifactsPrefix+"?path="+expID+"/"+id+"/artifacts/weights", nil)
	b, _ = json.Marshal(a.body["files"])
	if string(b) != `[{"file_size":4,"is_dir":false,"path":"best.pt"}]` {
		t.Errorf("proxy list %s", b)
	}
	a = do(t, s, http.MethodGet, ArtifactsPrefix+"/"+expID+"/"+id+"/artifacts/weights/best.pt", nil)
	if a.status != 200 || a.raw != "best" {
		t.Errorf("download %d %q", a.status, a.raw)
	}
	s.NoServeArtifacts = true
	if a := put("x", []byte("x")); a.status != 503 {
		t.Errorf("--no-serve-artifacts: %d", a.status)
	}
}

func TestServer_Auth(t *testing.T) {
	for _, mode := range []Auth{AuthBasic, AuthBearer} {
		s := newServer(t)
		s.Auth = mode
		want(t, get(t, s, "experiments/get-by-name?experiment_name=Default"), 200, "")
		for name, set := range map[string]func(*http.Request){
			"none":           func(*http.Request) {},
			"wrong password": func(r *http.Request) { r.SetBasicAuth(s.Username, "nope") },
			"wrong token":    func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") },
		} {
			req, _ := http.NewRequest(http.MethodGet, s.URL+TrackingPrefix+"experiments/get-by-name?experiment_name=Default", nil)
			set(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="mlflow"`) || !strings.Contains(string(body), "You are not authenticated") {
				t.Errorf("auth %d, %s: %d %q %q", mode, name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
			}
			if strings.Contains(string(body), s.Password) || strings.Contains(string(body), s.Token) {
				t.Error("a secret in the answer")
			}
		}
		if n := s.Calls("experiments/get-by-name"); n != 1 {
			t.Errorf("calls counted %d, want only the authenticated one", n)
		}
	}
}

func TestServer_UnknownRouteAndFields(t *testing.T) {
	s := newServer(t)
	if a := get(t, s, "runs/nonsense"); a.status != 404 || !strings.Contains(a.raw, "Not Found") {
		t.Errorf("unknown route %d %s", a.status, a.raw)
	}
	if a := get(t, s, "runs/log-batch"); a.status != 405 {
		t.Errorf("GET log-batch %d", a.status)
	}
	// The real server ignores fields it does not know (parse_dict with
	// ignore_unknown_fields); the fake records them.
	a := post(t, s, "experiments/create", map[string]any{"name": "x", "nmae": "typo"})
	want(t, a, 200, "")
	if inv := s.InvalidRequests(); len(inv) != 2 || !strings.Contains(inv[1], `"nmae"`) {
		t.Errorf("invalid %q", inv)
	}
}

func TestServer_RunCreateRefusals(t *testing.T) {
	s := newServer(t)
	want(t, post(t, s, "runs/create", map[string]any{"start_time": 1}), 400, "INVALID_PARAMETER_VALUE")
	want(t, post(t, s, "runs/create", map[string]any{"experiment_id": "77"}), 404, "RESOURCE_DOES_NOT_EXIST")
	want(t, post(t, s, "runs/create", map[string]any{"experiment_id": "0", "start_time": "soon"}), 400, "INVALID_PARAMETER_VALUE")
	want(t, post(t, s, "runs/create", map[string]any{"experiment_id": "0", "run_name": "a",
		"tags": []map[string]string{{"key": "mlflow.runName", "value": "b"}}}), 400, "INVALID_PARAMETER_VALUE")
	want(t, post(t, s, "runs/update", map[string]any{"run_id": strings.Repeat("b", 32), "status": "FINISHED"}), 404, "RESOURCE_DOES_NOT_EXIST")
	_, id := createRun(t, s)
	want(t, post(t, s, "runs/update", map[string]any{"run_id": id, "status": "DONE"}), 400, "INVALID_PARAMETER_VALUE")
	want(t, get(t, s, "runs/get?run_id=../etc"), 400, "INVALID_PARAMETER_VALUE")
}

func TestFaults(t *testing.T) {
	s := newServer(t)
	s.Faults.Next(1, faults.Fault{Kind: faults.TooMany, Match: "log-batch", RetryAfter: 2 * time.Second})
	s.Faults.Next(1, faults.Fault{Kind: faults.ServerError})
	a := get(t, s, "experiments/get-by-name?experiment_name=Default")
	want(t, a, 500, "INTERNAL_ERROR")
	_, id := createRun(t, s)
	a = post(t, s, "runs/log-batch", map[string]any{"run_id": id})
	want(t, a, 429, "REQUEST_LIMIT_EXCEEDED")
	if a.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q", a.header.Get("Retry-After"))
	}
	want(t, post(t, s, "runs/log-batch", map[string]any{"run_id": id}), 200, "")
	if got := s.Faults.Injected(); got["429"] != 1 || got["500"] != 1 {
		t.Errorf("injected %v", got)
	}
	if s.Calls("runs/log-batch") != 1 {
		t.Errorf("a faulted request reached the handler")
	}
}
