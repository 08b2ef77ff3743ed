package comettest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"testing"
)

// resp is one answer.
type resp struct {
	status int
	hdr    http.Header
	raw    []byte
	body   map[string]any // nil when the body is not a JSON object
}

func (r resp) sdk() int {
	f, _ := r.body["sdk_error_code"].(float64)
	return int(f)
}

type client struct {
	t   *testing.T
	s   *Server
	key string
}

func newClient(t *testing.T) (*Server, *client) {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	return s, &client{t: t, s: s, key: s.APIKey}
}

// do sends a request; body is JSON-encoded unless it is []byte.
func (c *client) do(method, path string, body any, hdr ...string) resp {
	c.t.Helper()
	var rd io.Reader
	ctype := "application/json;charset=utf-8"
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				c.t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.s.URL+RESTPrefix+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.key != "" {
		req.Header.Set("Authorization", c.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := resp{status: res.StatusCode, hdr: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// ok POSTs (body != nil) or GETs and requires 200.
func (c *client) ok(path string, body any) resp {
	c.t.Helper()
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	r := c.do(method, path, body)
	if r.status != 200 {
		c.t.Fatalf("%s: status %d, body %s", path, r.status, r.raw)
	}
	return r
}

// fail POSTs body and requires the given status and sdk_error_code.
func (c *client) fail(path string, body any, status, sdk int) resp {
	c.t.Helper()
	r := c.do(http.MethodPost, path, body)
	checkErr(c.t, r, path, status, sdk)
	return r
}

func checkErr(t *testing.T, r resp, what string, status, sdk int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (body %s)", what, r.status, status, r.raw)
	}
	if r.body == nil {
		t.Fatalf("%s: body is not a JSON object: %s", what, r.raw)
	}
	if _, ok := r.body["msg"].(string); !ok {
		t.Fatalf("%s: no msg in %s", what, r.raw)
	}
	if code, _ := r.body["code"].(float64); int(code) != status {
		t.Fatalf("%s: code %v, want %d", what, r.body["code"], status)
	}
	if _, ok := r.body["sdk_error_code"]; !ok || r.sdk() != sdk {
		t.Fatalf("%s: sdk_error_code %v, want %d (body %s)", what, r.body["sdk_error_code"], sdk, r.raw)
	}
}

// create makes an experiment in the default workspace and returns its key.
func (c *client) create(project, name string) string {
	c.t.Helper()
	body := map[string]any{"workspaceName": c.s.Workspace, "projectName": project}
	if name != "" {
		body["experimentName"] = name
	}
	r := c.ok("write/experiment/create", body)
	key, _ := r.body["experimentKey"].(string)
	return key
}

// upload is one upload-asset request.
type upload struct {
	query    url.Values
	fileName string // part filename; "-" for no file part
	data     []byte
	metadata *string
	extra    map[string]string // extra form parts
}

func (c *client) upload(u upload) resp {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if u.fileName != "-" {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="file"`
		if u.fileName != "" {
			cd += `; filename="` + u.fileName + `"`
		}
		h.Set("Content-Disposition", cd)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			c.t.Fatal(err)
		}
		_, _ = w.Write(u.data)
	}
	if u.metadata != nil {
		_ = mw.WriteField("metadata", *u.metadata)
	}
	for k, v := range u.extra {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.s.URL+RESTPrefix+"write/experiment/upload-asset?"+u.query.Encode(), &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", c.key)
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

func gz(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func strp(s string) *string { return &s }
