package clearmltest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// resp is a decoded API answer.
type resp struct {
	status int
	header http.Header
	env    map[string]any
	raw    string
}

func (r resp) meta() map[string]any { m, _ := r.env["meta"].(map[string]any); return m }
func (r resp) data() map[string]any { d, _ := r.env["data"].(map[string]any); return d }
func (r resp) subcode() int {
	f, _ := r.meta()["result_subcode"].(float64)
	return int(f)
}

func basic(s *Server) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(s.AccessKey+":"+s.SecretKey))
}

// rawCall sends body (marshalled unless it is a string or []byte) to path.
func rawCall(t *testing.T, s *Server, method, path, auth, ctype string, body any, hdr ...string) resp {
	t.Helper()
	var b []byte
	switch x := body.(type) {
	case nil:
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(x); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.API.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: string(rb)}
	_ = json.Unmarshal(rb, &r.env)
	return r
}

// client logs in once and calls endpoints with the token.
type client struct {
	t     *testing.T
	s     *Server
	token string
}

func newClient(t *testing.T, s *Server) *client {
	t.Helper()
	r := rawCall(t, s, "POST", "/auth.login", basic(s), "application/json", map[string]any{})
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	return &client{t: t, s: s, token: r.data()["token"].(string)}
}

func (c *client) call(endpoint string, body any) resp {
	c.t.Helper()
	return rawCall(c.t, c.s, "POST", "/"+endpoint, "Bearer "+c.token, "application/json", body)
}

// ok calls endpoint and fails the test unless it answers 200.
func (c *client) ok(endpoint string, body any) map[string]any {
	c.t.Helper()
	r := c.call(endpoint, body)
	if r.status != 200 {
		c.t.Fatalf("%s: %d %s", endpoint, r.status, r.raw)
	}
	return r.data()
}

// fail calls endpoint and checks the error code and subcode.
func (c *client) fail(endpoint string, body any, code, sub int) resp {
	c.t.Helper()
	r := c.call(endpoint, body)
	checkErr(c.t, r, endpoint, code, sub)
	return r
}

func checkErr(t *testing.T, r resp, what string, code, sub int) {
	t.Helper()
	if r.status != code || r.subcode() != sub {
		t.Fatalf("%s: got %d/%d, want %d/%d: %s", what, r.status, r.subcode(), code, sub, r.raw)
	}
	m := r.meta()
	if rc, _ := m["result_code"].(float64); int(rc) != code {
		t.Fatalf("%s: meta.result_code %v != HTTP %d", what, m["result_code"], code)
	}
	for _, k := range []string{"id", "trx", "endpoint", "result_msg", "error_stack", "error_data"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("%s: meta lacks %q: %s", what, k, r.raw)
		}
	}
	if m["error_stack"] != nil {
		t.Fatalf("%s: error_stack not null", what)
	}
	if d, ok := r.env["data"].(map[string]any); !ok || len(d) != 0 {
		t.Fatalf("%s: data must be {}: %s", what, r.raw)
	}
}

func (c *client) events(lines ...string) resp {
	c.t.Helper()
	return rawCall(c.t, c.s, "POST", "/events.add_batch", "Bearer "+c.token, "application/json-lines", strings.Join(lines, "\n"))
}

func jsonLine(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newTask creates a project (once) and a task in it.
func (c *client) newTask(name string) string {
	c.t.Helper()
	pid := ""
	d := c.ok("projects.get_all", map[string]any{"name": "^Proj$"})
	if ps := d["projects"].([]any); len(ps) > 0 {
		pid = ps[0].(map[string]any)["id"].(string)
	} else {
		pid = c.ok("projects.create", map[string]any{"name": "Proj"})["id"].(string)
	}
	return c.ok("tasks.create", map[string]any{"name": name, "type": "training", "project": pid})["id"].(string)
}
