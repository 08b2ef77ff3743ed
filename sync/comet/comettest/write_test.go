package comettest

import (
	"net/http"
	"testing"
)

func TestValidation(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		sdk        int
	}{
		{"unknown field", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": 1, "stepp": 1}, 400, 0},
		{"missing metricName", "write/experiment/metric", map[string]any{"experimentKey": key, "metricValue": 1}, 400, 0},
		{"missing metricValue", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m"}, 400, 0},
		{"null metricValue", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": nil}, 400, 0},
		{"bad metric string", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": "0.5"}, 400, 0},
		{"lowercase nan", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": "nan"}, 400, 0},
		{"bool metric", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": true}, 400, 0},
		{"fractional step", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": 1, "step": 1.5}, 400, 0},
		{"string step", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": 1, "step": "1"}, 400, 0},
		{"null timestamp", "write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": 1, "timestamp": nil}, 400, 0},
		{"unknown experiment", "write/experiment/metric", map[string]any{"experimentKey": "0123456789abcdef0123456789abcdef", "metricName": "m", "metricValue": 1}, 400, CodeNoWriteAccess},
		{"missing experimentKey", "write/experiment/metric", map[string]any{"metricName": "m", "metricValue": 1}, 400, 0},
		{"array parameter", "write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": "x", "parameterValue": []any{1, 2}}, 400, 0},
		{"object parameter", "write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": "x", "parameterValue": map[string]any{}}, 400, 0},
		{"missing parameterValue", "write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": "x"}, 400, 0},
		{"null other", "write/experiment/log-other", map[string]any{"experimentKey": key, "key": "k", "value": nil}, 400, 0},
		{"other key number", "write/experiment/log-other", map[string]any{"experimentKey": key, "key": 1, "value": "v"}, 400, 0},
		{"tags not array", "write/experiment/tags", map[string]any{"experimentKey": key, "addedTags": "a"}, 400, 0},
		{"tags numbers", "write/experiment/tags", map[string]any{"experimentKey": key, "addedTags": []any{1}}, 400, 0},
		{"tags missing", "write/experiment/tags", map[string]any{"experimentKey": key}, 400, 0},
		{"isAlive missing", "write/experiment/update-status", map[string]any{"experimentKey": key}, 400, 0},
		{"isAlive string", "write/experiment/update-status", map[string]any{"experimentKey": key, "isAlive": "false"}, 400, 0},
		{"start string", "write/experiment/set-start-end-time", map[string]any{"experimentKey": key, "startTimeMillis": "1"}, 400, 0},
		{"not an object", "write/experiment/tags", []any{"a"}, 400, 0},
		{"malformed", "write/experiment/tags", []byte(`{"experimentKey":`), 400, 0},
		{"trailing data", "write/experiment/tags", []byte(`{"experimentKey":"k","addedTags":[]} {}`), 400, 0},
		{"experimentName number", "write/experiment/create", map[string]any{"workspaceName": s.Workspace, "projectName": "p", "experimentName": 7}, 400, 0},
	} {
		r := c.do(http.MethodPost, tc.path, tc.body)
		checkErr(t, r, tc.name, tc.status, tc.sdk)
		t.Logf("%s: %s", tc.name, r.body["msg"])
	}
	r := c.do(http.MethodPost, "write/experiment/tags", map[string]any{"experimentKey": key, "addedTags": []string{"a"}}, "Content-Type", "text/plain")
	checkErr(t, r, "text/plain body", 415, 0)
	e, _ := s.Experiment(key)
	if len(e.Metrics)+len(e.Params)+len(e.Others)+len(e.Tags) != 0 || e.StatusUpdates != 0 {
		t.Errorf("rejected writes changed state: %+v", e)
	}
	if n := s.Calls("write/experiment/metric"); n != 12 {
		t.Errorf("Calls(metric) = %d, want 12", n)
	}
}

func TestRoundTrip(t *testing.T) {
	s, c := newClient(t)
	key := c.create("yolo", "")
	c.ok("write/experiment/log-other", map[string]any{"experimentKey": key, "key": "Name", "value": "train7"})
	c.ok("write/experiment/log-other", map[string]any{"experimentKey": key, "key": "source_run", "value": "abc", "timestamp": 1717000000000})
	c.ok("write/experiment/log-other", map[string]any{"experimentKey": key, "key": "source_run", "value": 42})
	c.ok("write/experiment/log-other", map[string]any{"experimentKey": key, "key": "flag", "value": true})
	c.ok("write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": "lr0", "parameterValue": 0.01, "timestamp": 1717000000500})
	c.ok("write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": "names", "parameterValue": `["a","b"]`})
	c.ok("write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": "cfg", "parameterValue": nil, "step": nil})
	c.ok("write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": "lr0", "parameterValue": 0.02, "step": 3, "context": "train"})
	c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "metrics/mAP50(B)", "metricValue": 0.512, "step": 1850, "epoch": 5, "timestamp": 1717000100000})
	c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "metrics/mAP50(B)", "metricValue": 0.6, "step": 3700, "epoch": 10, "context": nil, "timestamp": 1717000200000})
	c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "train/box_loss", "metricValue": "NaN", "step": nil, "epoch": nil, "context": "train"})
	c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "lr", "metricValue": "Infinity"})
	c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "lr", "metricValue": "-Infinity"})
	c.ok("write/experiment/tags", map[string]any{"experimentKey": key, "addedTags": []string{"ultralytics", "yoloarchive"}})
	c.ok("write/experiment/tags", map[string]any{"experimentKey": key, "addedTags": []string{"yoloarchive", "x"}})
	c.ok("write/experiment/set-start-end-time", map[string]any{"experimentKey": key, "startTimeMillis": 1717000000000, "endTimeMillis": 1717003600000})
	c.ok("write/experiment/set-start-end-time", map[string]any{"experimentKey": key, "startTimeMillis": nil, "endTimeMillis": nil})
	c.ok("write/experiment/update-status", map[string]any{"experimentKey": key, "isAlive": false, "error": nil, "hasCrashed": false})

	e, ok := s.Experiment(key)
	if !ok {
		t.Fatal("experiment missing")
	}
	if e.Name != "train7" || e.Others["source_run"] != "42" || e.Others["flag"] != "true" || len(e.OthersLog) != 4 {
		t.Errorf("others: %q %v %v", e.Name, e.Others, e.OthersLog)
	}
	if e.OthersLog[1].Timestamp != 1717000000000 || e.OthersLog[1].Value != "abc" {
		t.Errorf("others log %+v", e.OthersLog[1])
	}
	if p := e.Params["lr0"]; p.Value != 0.02 || p.Step == nil || *p.Step != 3 || p.Context != "train" || e.ParamWrites != 4 {
		t.Errorf("params %+v writes %d", e.Params, e.ParamWrites)
	}
	if p, ok := e.Params["cfg"]; !ok || p.Value != nil || p.Step != nil {
		t.Errorf("null param %+v", p)
	}
	if len(e.Metrics) != 5 || e.Metrics[0].Value != 0.512 || *e.Metrics[0].Step != 1850 || *e.Metrics[0].Epoch != 5 ||
		e.Metrics[2].Value != "NaN" || e.Metrics[2].Step != nil || e.Metrics[2].Context != "train" {
		t.Errorf("metrics %+v", e.Metrics)
	}
	if len(e.Tags) != 3 || e.Tags[0] != "ultralytics" || e.Tags[2] != "x" {
		t.Errorf("tags %v", e.Tags)
	}
	if e.StartMillis != 1717000000000 || e.EndMillis == nil || *e.EndMillis != 1717003600000 {
		t.Errorf("times %d %v", e.StartMillis, e.EndMillis)
	}
	if e.Alive || e.HasCrashed || e.StatusUpdates != 1 {
		t.Errorf("status %+v", e)
	}

	q := "?experimentKey=" + key
	r := c.ok("experiment/metadata"+q, nil)
	if r.body["experimentName"] != "train7" || r.body["running"] != false || r.body["durationMillis"] != 3600000.0 ||
		r.body["startTimeMillis"] != 1717000000000.0 || r.body["projectName"] != "yolo" {
		t.Errorf("metadata %s", r.raw)
	}
	r = c.ok("experiment/log-other"+q, nil)
	vals, _ := r.body["values"].([]any)
	if len(vals) != 3 || vals[1].(map[string]any)["name"] != "source_run" || vals[1].(map[string]any)["valueCurrent"] != "42" {
		t.Errorf("log-other %s", r.raw)
	}
	r = c.ok("experiment/parameters"+q, nil)
	vals, _ = r.body["values"].([]any)
	if len(vals) != 3 || vals[0].(map[string]any)["valueCurrent"] != "0.02" || vals[1].(map[string]any)["valueCurrent"] != `["a","b"]` {
		t.Errorf("parameters %s", r.raw)
	}
	r = c.ok("experiment/tags"+q, nil)
	if tags, _ := r.body["tags"].([]any); len(tags) != 3 {
		t.Errorf("tags %s", r.raw)
	}
	r = c.ok("experiment/metrics/get-all"+q, nil)
	ms, _ := r.body["metrics"].([]any)
	if len(ms) != 5 {
		t.Fatalf("get-all %s", r.raw)
	}
	m0 := ms[0].(map[string]any)
	if m0["metricName"] != "metrics/mAP50(B)" || m0["metricValue"] != "0.512" || m0["step"] != 1850.0 || m0["epoch"] != 5.0 ||
		m0["timestamp"] != 1717000100000.0 || m0["runContext"] != nil {
		t.Errorf("metric 0 %v", m0)
	}
	r = c.ok("experiment/metrics/get-metric"+q+"&metricName=lr", nil)
	if ms, _ := r.body["metrics"].([]any); len(ms) != 2 || ms[1].(map[string]any)["metricValue"] != "-Infinity" {
		t.Errorf("get-metric %s", r.raw)
	}
	r = c.ok("experiment/metrics/summary"+q, nil)
	vals, _ = r.body["values"].([]any)
	if len(vals) != 3 {
		t.Fatalf("summary %s", r.raw)
	}
	s0 := vals[0].(map[string]any)
	if s0["name"] != "metrics/mAP50(B)" || s0["valueCurrent"] != "0.6" || s0["valueMin"] != "0.512" || s0["valueMax"] != "0.6" || s0["stepCurrent"] != 3700.0 {
		t.Errorf("summary 0 %v", s0)
	}
	if s1 := vals[1].(map[string]any); s1["valueCurrent"] != "NaN" || s1["valueMin"] != nil {
		t.Errorf("summary 1 %v", s1)
	}
	// Reads of an unknown experiment: 404.
	r = c.do(http.MethodGet, "experiment/metadata?experimentKey=0123456789abcdef0123456789abcdef", nil)
	checkErr(t, r, "unknown experiment read", 404, 0)
	r = c.do(http.MethodGet, "experiment/tags", nil)
	checkErr(t, r, "read without key", 400, 0)
}

func TestMetricDuplicatesKept(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	point := map[string]any{"experimentKey": key, "metricName": "loss", "metricValue": 1.5, "step": 10, "epoch": 1, "timestamp": 1}
	for range 3 {
		c.ok("write/experiment/metric", point)
	}
	e, _ := s.Experiment(key)
	if len(e.Metrics) != 3 {
		t.Errorf("%d points, want 3", len(e.Metrics))
	}
	r := c.ok("experiment/metrics/get-metric?experimentKey="+key+"&metricName=loss", nil)
	if ms, _ := r.body["metrics"].([]any); len(ms) != 3 {
		t.Errorf("get-metric: %s", r.raw)
	}
	if s.Calls("write/experiment/metric") != 3 {
		t.Errorf("Calls = %d", s.Calls("write/experiment/metric"))
	}
}

func TestGzipBody(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	body := gz(t, map[string]any{"experimentKey": key, "metricName": "m", "metricValue": 2})
	r := c.do(http.MethodPost, "write/experiment/metric", body, "Content-Encoding", "gzip")
	if r.status != 200 {
		t.Fatalf("gzip: %d %s", r.status, r.raw)
	}
	if e, _ := s.Experiment(key); len(e.Metrics) != 1 || e.Metrics[0].Value != 2.0 {
		t.Errorf("metrics %+v", e.Metrics)
	}
	r = c.do(http.MethodPost, "write/experiment/metric", []byte("not gzip"), "Content-Encoding", "gzip")
	checkErr(t, r, "bad gzip", 400, 0)
	// Gzip also works for create.
	r = c.do(http.MethodPost, "write/experiment/create", gz(t, map[string]any{"workspaceName": s.Workspace, "projectName": "p"}), "Content-Encoding", "gzip")
	if r.status != 200 {
		t.Errorf("gzip create: %d %s", r.status, r.raw)
	}
}

func TestConcurrentWritesAndSnapshots(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 10 {
				c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": i*10 + j, "step": j})
			}
		}()
	}
	for range 8 {
		<-done
	}
	e, _ := s.Experiment(key)
	if len(e.Metrics) != 80 {
		t.Errorf("%d metrics, want 80", len(e.Metrics))
	}
	// Snapshots are deep copies.
	*e.Metrics[0].Step = -1
	e.Others["x"] = "y"
	e2, _ := s.Experiment(key)
	if *e2.Metrics[0].Step == -1 || e2.Others["x"] == "y" {
		t.Error("snapshot shares state with the server")
	}
	if all := s.Experiments(); len(all) != 1 || all[0].Key != key {
		t.Errorf("Experiments() = %+v", all)
	}
}
