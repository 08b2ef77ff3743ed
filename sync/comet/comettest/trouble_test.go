package comettest

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRateLimit: a throttled request answers 429 with Retry-After-Custom
// only, stores nothing, and the next one is served.
func TestRateLimit(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	s.RateLimit("clientlib/batch/logger/experiment/metric", 1, 1500*time.Millisecond)
	body := map[string]any{"experimentKey": key, "values": []any{metricValue("m", 1, 1, 1, nil, 1717000100000)}}
	r := c.clientlib("batch/logger/experiment/metric", body)
	checkErr(t, r, "throttled", 429, 0)
	if got := r.hdr.Get("Retry-After-Custom"); got != "1.5" || r.hdr.Get("Retry-After") != "" {
		t.Errorf("Retry-After-Custom %q, Retry-After %q", got, r.hdr.Get("Retry-After"))
	}
	if e, _ := s.Experiment(key); len(e.Metrics) != 0 {
		t.Errorf("a throttled batch stored %d points", len(e.Metrics))
	}
	if r := c.clientlib("batch/logger/experiment/metric", body); r.status != 200 {
		t.Errorf("after the limit: %d %s", r.status, r.raw)
	}
}

// TestDropAnswers: the request takes effect, the client gets no answer.
func TestDropAnswers(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	s.DropAnswers("write/experiment/metric", 1)
	body := fmt.Sprintf(`{"experimentKey":%q,"metricName":"m","metricValue":1}`, key)
	req, _ := http.NewRequest(http.MethodPost, s.RESTBase()+"write/experiment/metric", strings.NewReader(body))
	req.Header.Set("Authorization", s.APIKey)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("answered %d", res.StatusCode)
	}
	c.ok("write/experiment/metric", map[string]any{"experimentKey": key, "metricName": "m", "metricValue": 2})
	if e, _ := s.Experiment(key); len(e.Metrics) != 2 {
		t.Errorf("%d points, want the one without an answer and the next", len(e.Metrics))
	}
}

// TestTruncatedBody: a client that goes away part-way through its body
// (a killed sync) sent no malformed request.
func TestTruncatedBody(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"experimentKey":%q,"metricName":"m",`, key)
	fmt.Fprintf(conn, "POST %swrite/experiment/metric HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		RESTPrefix, s.APIKey, len(body)+100, body)
	conn.(*net.TCPConn).CloseWrite()
	buf := make([]byte, 512)
	_, _ = conn.Read(buf)
	conn.Close()
	for i := 0; i < 100 && s.Calls("write/experiment/metric") == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Calls("write/experiment/metric") != 1 {
		t.Fatal("the request did not reach the server")
	}
	if inv := s.InvalidRequests(); len(inv) != 0 {
		t.Errorf("a truncated body counted as malformed: %v", inv)
	}
}
