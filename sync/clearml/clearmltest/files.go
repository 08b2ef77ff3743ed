package clearmltest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// serveFiles is the file server: POST / (multipart upload, the form field
// name of each file part is the destination path), GET/HEAD/DELETE /<path>.
// Only Bearer tokens from auth.login (header, or the clearml_token_basic
// cookie) are accepted.
func (s *Server) serveFiles(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Encoding") != "" {
		http.Error(w, "Unsupported Media Type", http.StatusUnsupportedMediaType)
		return
	}
	if !s.fileAuth(r) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	path := strings.TrimLeft(r.URL.Path, "/")
	switch r.Method {
	case http.MethodPost:
		if path != "" {
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		s.upload(w, r)
	case http.MethodGet, http.MethodHead:
		s.mu.Lock()
		b, ok := s.files[path]
		s.mu.Unlock()
		if !ok || path == "" {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		ct := mime.TypeByExtension(extOf(path))
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	case http.MethodDelete:
		s.mu.Lock()
		_, ok := s.files[path]
		delete(s.files, path)
		s.mu.Unlock()
		if !ok {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}
}

func extOf(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 && !strings.Contains(p[i:], "/") {
		return p[i:]
	}
	return ""
}

func (s *Server) fileAuth(r *http.Request) bool {
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		if scheme != "Bearer" {
			return false
		}
		tok = strings.TrimSpace(cred)
	} else if c, err := r.Cookie("clearml_token_basic"); err == nil {
		tok = c.Value
	}
	return tok != "" && s.tokenOK(tok)
}

// validPath reports whether p is a safe relative path (no "..", no empty
// path).
func validPath(p string) bool {
	if p == "" || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return false
		}
	}
	return true
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		http.Error(w, "Bad Request: expected multipart/form-data: "+err.Error(), http.StatusBadRequest)
		return
	}
	stored := map[string][]byte{}
	var order []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			http.Error(w, "Bad Request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if part.FileName() == "" {
			_, _ = io.Copy(io.Discard, part)
			continue
		}
		p := strings.TrimLeft(part.FormName(), "/")
		if !validPath(p) {
			http.Error(w, "Bad Request: invalid path "+strconv.Quote(part.FormName()), http.StatusBadRequest)
			return
		}
		b, err := io.ReadAll(part)
		if err != nil {
			http.Error(w, "Bad Request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if _, dup := stored[p]; !dup {
			order = append(order, p)
		}
		stored[p] = b
	}
	s.mu.Lock()
	for p, b := range stored {
		s.files[p] = b
	}
	s.mu.Unlock()
	if order == nil {
		order = []string{}
	}
	out, _ := json.Marshal(order)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}
