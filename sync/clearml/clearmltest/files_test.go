package clearmltest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

type part struct {
	field, filename string
	data            []byte
}

func upload(t *testing.T, s *Server, auth string, parts ...part) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename == "" {
			w, err = mw.CreateFormField(p.field)
		} else {
			w, err = mw.CreateFormFile(p.field, p.filename)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.data)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.Files.URL+"/", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func fetch(t *testing.T, s *Server, method, path, auth string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, s.Files.URL+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

func TestFileServer(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	bearer := "Bearer " + c.token
	key := "Ultralytics/train3.abc/metrics/Validation/val_labels.jpg/Validation_val_labels.jpg_00000000.jpg"

	code, body := upload(t, s, bearer, part{"/" + key, key, []byte("JPEGDATA")}, part{"note", "", []byte("ignored")},
		part{"Ultralytics/train3.abc/models/best.pt", "best.pt", []byte("weights")})
	if code != 200 {
		t.Fatalf("upload %d %s", code, body)
	}
	var stored []string
	if err := json.Unmarshal([]byte(body), &stored); err != nil || len(stored) != 2 || stored[0] != key {
		t.Fatalf("response %s", body)
	}
	if b, ok := s.File(key); !ok || string(b) != "JPEGDATA" {
		t.Fatalf("File: %q %v", b, ok)
	}
	if ps := s.FilePaths(); len(ps) != 2 {
		t.Fatalf("paths %v", ps)
	}
	// Overwrite.
	if code, _ = upload(t, s, bearer, part{key, key, []byte("NEW")}); code != 200 {
		t.Fatal(code)
	}
	code, b, _ := fetch(t, s, "GET", "/"+key, bearer)
	if code != 200 || string(b) != "NEW" {
		t.Fatalf("GET %d %q", code, b)
	}
	code, b, h := fetch(t, s, "HEAD", "/Ultralytics/train3.abc/models/best.pt", bearer)
	if code != 200 || len(b) != 0 || h.Get("Content-Length") != "7" {
		t.Fatalf("HEAD %d %v", code, h)
	}
	if code, _, _ = fetch(t, s, "GET", "/absent.jpg", bearer); code != 404 {
		t.Fatalf("absent %d", code)
	}

	// Auth: Basic and missing are refused, as are stale tokens.
	if code, _ = upload(t, s, basic(s), part{"x.txt", "x.txt", []byte("x")}); code != 401 {
		t.Fatalf("basic upload %d", code)
	}
	if code, _ = upload(t, s, "", part{"x.txt", "x.txt", []byte("x")}); code != 401 {
		t.Fatalf("no auth upload %d", code)
	}
	if code, _, _ = fetch(t, s, "GET", "/"+key, ""); code != 401 {
		t.Fatalf("no auth get %d", code)
	}
	// Traversal.
	for _, p := range []string{"../etc/passwd", "a/../../b", "a/.."} {
		if code, _ = upload(t, s, bearer, part{p, "f", []byte("x")}); code != 400 {
			t.Fatalf("traversal %q: %d", p, code)
		}
	}
	if len(s.FilePaths()) != 2 {
		t.Fatalf("paths after refusals: %v", s.FilePaths())
	}
	req, _ := http.NewRequest("POST", s.Files.URL+"/", strings.NewReader("x"))
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Encoding", "gzip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 415 {
		t.Fatalf("gzip upload %d", res.StatusCode)
	}
	s.ExpireTokens()
	if code, _, _ = fetch(t, s, "GET", "/"+key, bearer); code != 401 {
		t.Fatalf("expired token get %d", code)
	}
}

func TestFaultsWrapBothServers(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)

	s.Faults.Next(1, synctest.Fault{Kind: synctest.TooMany, RetryAfter: 2 * time.Second})
	r := c.call("projects.get_all", map[string]any{})
	if r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Fatalf("API fault: %d %v", r.status, r.header)
	}
	if r = c.call("projects.get_all", map[string]any{}); r.status != 200 {
		t.Fatalf("after fault: %d", r.status)
	}

	s.Faults.Next(1, synctest.Fault{Kind: synctest.TooMany})
	code, _, h := fetch(t, s, "GET", "/x", "Bearer "+c.token)
	if code != 429 || h.Get("Retry-After") != "1" {
		t.Fatalf("files fault: %d", code)
	}
	s.Faults.Next(1, synctest.Fault{Kind: synctest.ServerError, Match: "events.add_batch"})
	if r = c.call("projects.get_all", map[string]any{}); r.status != 200 {
		t.Fatalf("unmatched: %d", r.status)
	}
	if got := s.Faults.Injected()["429"]; got != 2 {
		t.Fatalf("injected %v", s.Faults.Injected())
	}
}
