package comettest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// clientlib POSTs body (JSON-encoded unless []byte) to <root>/clientlib/path.
func (c *client) clientlib(path string, body any, hdr ...string) resp {
	c.t.Helper()
	b, ok := body.([]byte)
	if !ok {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, c.s.URL+ClientlibPrefix+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", c.key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, hdr: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func TestBatchEndpoints(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	metrics := map[string]any{"experimentKey": key, "values": []any{
		map[string]any{"metricName": "loss", "metricValue": 0.5, "step": 1, "epoch": 1, "context": nil, "timestamp": 1717000100000},
		map[string]any{"metricName": "loss", "metricValue": "NaN", "step": nil, "epoch": nil, "context": "train", "timestamp": 1717000100001},
	}}
	if r := c.clientlib("batch/logger/experiment/metric", gz(t, metrics), "Content-Encoding", "gzip"); r.status != 200 {
		t.Fatalf("metric batch: %d %s", r.status, r.raw)
	}
	params := map[string]any{"experimentKey": key, "values": []any{
		map[string]any{"parameterName": "lr0", "parameterValue": 0.01, "step": nil, "source": "manual", "context": nil, "timestamp": 1717000000500},
		map[string]any{"parameterName": "names", "parameterValue": []any{"a", "b"}, "source": "auto-logged"},
	}}
	if r := c.clientlib("batch/logger/experiment/parameter", params); r.status != 200 {
		t.Fatalf("parameter batch: %d %s", r.status, r.raw)
	}
	e, _ := s.Experiment(key)
	if len(e.Metrics) != 2 || e.Metrics[0].Value != 0.5 || *e.Metrics[0].Step != 1 || e.Metrics[1].Value != "NaN" ||
		e.Metrics[1].Context != "train" || e.Metrics[0].Timestamp != 1717000100000 {
		t.Errorf("metrics %+v", e.Metrics)
	}
	if e.Params["lr0"].Value != 0.01 || e.ParamWrites != 2 {
		t.Errorf("params %+v", e.Params)
	}
	r := c.ok("experiment/parameters?experimentKey="+key, nil)
	if vals, _ := r.body["values"].([]any); len(vals) != 2 || vals[1].(map[string]any)["valueCurrent"] != `["a","b"]` {
		t.Errorf("parameters %s", r.raw)
	}
	if s.Calls("clientlib/batch/logger/experiment/metric") != 1 || s.Calls("clientlib/batch/logger/experiment/parameter") != 1 {
		t.Errorf("calls %d %d", s.Calls("clientlib/batch/logger/experiment/metric"), s.Calls("clientlib/batch/logger/experiment/parameter"))
	}
	point := map[string]any{"metricName": "m", "metricValue": 1}
	many := make([]any, 1001)
	for i := range many {
		many[i] = point
	}
	for _, tc := range []struct {
		name, path string
		body       any
		sdk        int
	}{
		{"1001 points", "batch/logger/experiment/metric", map[string]any{"experimentKey": key, "values": many}, 0},
		{"no points", "batch/logger/experiment/metric", map[string]any{"experimentKey": key, "values": []any{}}, 0},
		{"unknown key", "batch/logger/experiment/metric", map[string]any{"experimentKey": "0123456789abcdef0123456789abcdef", "values": []any{point}}, CodeNoWriteAccess},
		{"offset in a point", "batch/logger/experiment/metric", map[string]any{"experimentKey": key, "values": []any{map[string]any{"metricName": "m", "metricValue": 1, "offset": 3}}}, 0},
		{"null value", "batch/logger/experiment/metric", map[string]any{"experimentKey": key, "values": []any{map[string]any{"metricName": "m", "metricValue": nil}}}, 0},
		{"object parameter", "batch/logger/experiment/parameter", map[string]any{"experimentKey": key, "values": []any{map[string]any{"parameterName": "x", "parameterValue": map[string]any{}}}}, 0},
		{"unknown source", "batch/logger/experiment/parameter", map[string]any{"experimentKey": key, "values": []any{map[string]any{"parameterName": "x", "parameterValue": 1, "source": "yaml"}}}, 0},
	} {
		r := c.clientlib(tc.path, tc.body)
		checkErr(t, r, tc.name, 400, tc.sdk)
		t.Logf("%s: %s", tc.name, r.body["msg"])
	}
	if e, _ := s.Experiment(key); len(e.Metrics) != 2 || e.ParamWrites != 2 {
		t.Errorf("refused batches changed state: %d points, %d parameter writes", len(e.Metrics), e.ParamWrites)
	}
	// The batch endpoints are clientlib ones, not REST v2 ones.
	r = c.do(http.MethodPost, "clientlib/batch/logger/experiment/metric", metrics)
	if r.status != 404 {
		t.Errorf("under the REST base: %d %s", r.status, r.raw)
	}
}
