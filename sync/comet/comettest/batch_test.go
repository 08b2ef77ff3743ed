package comettest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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

// metricValue is a batch value as the SDK's MetricMessage.repr_json_batch
// writes it: all six keys.
func metricValue(name string, value any, step, epoch, context any, ts int64) map[string]any {
	return map[string]any{"metricName": name, "metricValue": value, "step": step, "epoch": epoch, "context": context, "timestamp": ts}
}

// paramValue is a batch value as ParameterMessage.repr_json_batch writes
// it.
func paramValue(name string, value any) map[string]any {
	return map[string]any{"parameterName": name, "parameterValue": value, "step": nil, "source": "manual", "context": nil, "timestamp": 1717000000500}
}

func TestBatchEndpoints(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	metrics := map[string]any{"experimentKey": key, "values": []any{
		metricValue("loss", 0.5, 1, 1, nil, 1717000100000),
		metricValue("loss", "NaN", nil, nil, "train", 1717000100001),
	}}
	if r := c.clientlib("batch/logger/experiment/metric", gz(t, metrics), "Content-Encoding", "gzip"); r.status != 200 {
		t.Fatalf("metric batch: %d %s", r.status, r.raw)
	}
	params := map[string]any{"experimentKey": key, "values": []any{
		paramValue("lr0", 0.01),
		map[string]any{"parameterName": "names", "parameterValue": []any{"a", "b"}, "step": nil, "source": "auto-logged", "context": "train", "timestamp": 1717000000600},
	}}
	if r := c.clientlib("batch/logger/experiment/parameter", params); r.status != 200 {
		t.Fatalf("parameter batch: %d %s", r.status, r.raw)
	}
	e, _ := s.Experiment(key)
	if len(e.Metrics) != 2 || e.Metrics[0].Value != 0.5 || *e.Metrics[0].Step != 1 || e.Metrics[1].Value != "NaN" ||
		e.Metrics[1].Context != "train" || e.Metrics[0].Timestamp != 1717000100000 {
		t.Errorf("metrics %+v", e.Metrics)
	}
	if e.Params["lr0"].Value != 0.01 || e.Params["names"].Context != "train" || e.Params["names"].Timestamp != 1717000000600 || e.ParamWrites != 2 {
		t.Errorf("params %+v", e.Params)
	}
	r := c.ok("experiment/parameters?experimentKey="+key, nil)
	if vals, _ := r.body["values"].([]any); len(vals) != 2 || vals[1].(map[string]any)["valueCurrent"] != `["a","b"]` {
		t.Errorf("parameters %s", r.raw)
	}
	if s.Calls("clientlib/batch/logger/experiment/metric") != 1 || s.Calls("clientlib/batch/logger/experiment/parameter") != 1 {
		t.Errorf("calls %d %d", s.Calls("clientlib/batch/logger/experiment/metric"), s.Calls("clientlib/batch/logger/experiment/parameter"))
	}
	point := metricValue("m", 1, 1, nil, nil, 1717000100000)
	many := make([]any, 1001)
	for i := range many {
		many[i] = point
	}
	without := func(v map[string]any, k string) map[string]any {
		v = maps.Clone(v)
		delete(v, k)
		return v
	}
	with := func(v map[string]any, k string, x any) map[string]any {
		v = maps.Clone(v)
		v[k] = x
		return v
	}
	for _, tc := range []struct {
		name, path string
		values     []any
		sdk        int
	}{
		{"1001 points", "batch/logger/experiment/metric", many, 0},
		{"no points", "batch/logger/experiment/metric", []any{}, 0},
		{"offset in a point", "batch/logger/experiment/metric", []any{with(point, "offset", 3)}, 0},
		{"null value", "batch/logger/experiment/metric", []any{with(point, "metricValue", nil)}, 0},
		{"no step key", "batch/logger/experiment/metric", []any{without(point, "step")}, 0},
		{"no timestamp", "batch/logger/experiment/metric", []any{without(point, "timestamp")}, 0},
		{"fractional step", "batch/logger/experiment/metric", []any{with(point, "step", 1.5)}, 0},
		{"object parameter", "batch/logger/experiment/parameter", []any{paramValue("x", map[string]any{})}, 0},
		{"unknown source", "batch/logger/experiment/parameter", []any{with(paramValue("x", 1), "source", "yaml")}, 0},
		{"paramName for parameterName", "batch/logger/experiment/parameter", []any{with(without(paramValue("x", 1), "parameterName"), "paramName", "x")}, 0},
		{"no source key", "batch/logger/experiment/parameter", []any{without(paramValue("x", 1), "source")}, 0},
	} {
		r := c.clientlib(tc.path, map[string]any{"experimentKey": key, "values": tc.values})
		checkErr(t, r, tc.name, 400, tc.sdk)
		t.Logf("%s: %s", tc.name, r.body["msg"])
	}
	r = c.clientlib("batch/logger/experiment/metric", map[string]any{"experimentKey": "0123456789abcdef0123456789abcdef", "values": []any{point}})
	checkErr(t, r, "unknown key", 400, CodeNoWriteAccess)
	if e, _ := s.Experiment(key); len(e.Metrics) != 2 || e.ParamWrites != 2 {
		t.Errorf("refused batches changed state: %d points, %d parameter writes", len(e.Metrics), e.ParamWrites)
	}
	// The batch endpoints are clientlib ones, not REST v2 ones.
	r = c.do(http.MethodPost, "clientlib/batch/logger/experiment/metric", metrics)
	if r.status != 404 {
		t.Errorf("under the REST base: %d %s", r.status, r.raw)
	}
}

// TestBatch_RefusedWhole: one invalid value among valid ones (at the
// start, in the middle, at the end) refuses the batch whole: nothing of
// it is stored, and the refusal names the value at fault.
func TestBatch_RefusedWhole(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	for _, at := range []int{0, 500, 998} {
		values := make([]any, 999)
		for i := range values {
			values[i] = metricValue("loss", float64(i), i, 1, nil, 1717000100000+int64(i))
		}
		values[at] = metricValue("loss", nil, at, 1, nil, 1717000100000)
		r := c.clientlib("batch/logger/experiment/metric", gz(t, map[string]any{"experimentKey": key, "values": values}), "Content-Encoding", "gzip")
		checkErr(t, r, fmt.Sprintf("invalid value at %d", at), 400, 0)
		if msg, _ := r.body["msg"].(string); !bytes.Contains([]byte(msg), []byte(fmt.Sprintf("values[%d]", at))) {
			t.Errorf("invalid value at %d: %q does not name it", at, msg)
		}
		params := []any{paramValue("a", 1), paramValue("b", map[string]any{"x": 1}), paramValue("c", 3)}
		checkErr(t, c.clientlib("batch/logger/experiment/parameter", map[string]any{"experimentKey": key, "values": params}), "parameters", 400, 0)
	}
	if e, _ := s.Experiment(key); len(e.Metrics) != 0 || len(e.Params) != 0 {
		t.Errorf("refused batches stored %d points and %d parameters", len(e.Metrics), len(e.Params))
	}
}

// TestBatch_SameAsPerPoint: points and parameters a batch stores read
// back exactly as the same ones written one request each: get-all,
// get-metric, the metrics summary and the parameters.
func TestBatch_SameAsPerPoint(t *testing.T) {
	_, c := newClient(t)
	batch, single := c.create("p", "batch"), c.create("p", "single")
	values := []map[string]any{
		metricValue("loss", 0.5, 10, 1, nil, 1717000100000),
		metricValue("loss", 0.25, 20, 2, "train", 1717000100001),
		metricValue("loss", "NaN", nil, nil, nil, 1717000100002),
		metricValue("acc", 3.0, 0, 0, "val", 1717000100003),
	}
	params := []map[string]any{paramValue("lr0", 0.01), paramValue("name", "exp"), paramValue("amp", true), paramValue("x", nil)}
	var vs, ps []any
	for _, v := range values {
		vs = append(vs, v)
		body := maps.Clone(v)
		body["experimentKey"] = single
		c.ok("write/experiment/metric", body)
	}
	for _, p := range params {
		ps = append(ps, p)
		body := maps.Clone(p)
		body["experimentKey"] = single
		delete(body, "source")
		delete(body, "context")
		c.ok("write/experiment/parameter", body)
	}
	if r := c.clientlib("batch/logger/experiment/metric", map[string]any{"experimentKey": batch, "values": vs}); r.status != 200 {
		t.Fatal(r.status, string(r.raw))
	}
	if r := c.clientlib("batch/logger/experiment/parameter", map[string]any{"experimentKey": batch, "values": ps}); r.status != 200 {
		t.Fatal(r.status, string(r.raw))
	}
	for _, path := range []string{"experiment/metrics/get-all?experimentKey=", "experiment/metrics/get-metric?metricName=loss&experimentKey=",
		"experiment/metrics/summary?experimentKey=", "experiment/parameters?experimentKey="} {
		a, b := c.ok(path+batch, nil), c.ok(path+single, nil)
		if string(a.raw) != string(b.raw) {
			t.Errorf("%s: batch %s\nper point %s", path, a.raw, b.raw)
		}
	}
}

// TestBatch_WithoutBatch: a server without the batch endpoints answers
// them 404 or 405 (not a malformed request), stores nothing, and serves
// the REST v2 writes as always.
func TestBatch_WithoutBatch(t *testing.T) {
	for _, status := range []int{404, 405} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s, c := newClient(t)
			s.WithoutBatch = status
			key := c.create("p", "")
			r := c.clientlib("batch/logger/experiment/metric", map[string]any{"experimentKey": key, "values": []any{metricValue("m", 1, 1, 1, nil, 1717000100000)}})
			checkErr(t, r, "metric batch", status, 0)
			r = c.clientlib("batch/logger/experiment/parameter", map[string]any{"experimentKey": key, "values": []any{paramValue("x", 1)}})
			checkErr(t, r, "parameter batch", status, 0)
			c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": 1})
			if e, _ := s.Experiment(key); len(e.Metrics) != 1 || len(e.Params) != 0 {
				t.Errorf("%d points, %d parameters", len(e.Metrics), len(e.Params))
			}
			if inv := s.InvalidRequests(); len(inv) != 0 {
				t.Errorf("counted as malformed: %v", inv)
			}
		})
	}
}

// TestOutput: console lines are stored in arrival order and read back as
// one text.
func TestOutput(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	c.ok("write/experiment/output", map[string]any{"experimentKey": key, "runContext": nil, "outputLines": []any{
		map[string]any{"output": "epoch 1\n", "stderr": false, "localTimestamp": 1717000100000, "offset": 1},
		map[string]any{"output": "warning\n", "stderr": true, "localTimestamp": 1717000100001, "offset": 2},
	}})
	c.ok("write/experiment/output", map[string]any{"experimentKey": key, "outputLines": []any{map[string]any{"output": "done"}}})
	e, _ := s.Experiment(key)
	if len(e.Output) != 3 || !e.Output[1].Stderr || e.Output[1].Offset != 2 || e.Output[0].Timestamp != 1717000100000 {
		t.Errorf("output %+v", e.Output)
	}
	if r := c.ok("experiment/output?experimentKey="+key, nil); r.body["output"] != "epoch 1\nwarning\ndone" {
		t.Errorf("read %s", r.raw)
	}
	c.fail("write/experiment/output", map[string]any{"experimentKey": key, "outputLines": []any{map[string]any{"output": "x", "level": "info"}}}, 400, 0)
	c.fail("write/experiment/output", map[string]any{"experimentKey": key, "outputLines": []any{}}, 400, 0)
	checkErr(t, c.do(http.MethodGet, "experiment/output?experimentKey=0123456789abcdef0123456789abcdef", nil), "unknown key", 404, 0)
}
