// Package clearmltest is an in-process fake of a ClearML API server and
// file server for the sync tests of the ClearML client.
//
// Schemas: every request and every answer is validated with the ClearML
// SDK's own JSON Schemas (schemas/, API 2.9, 2.13, 2.20 and 2.23) of the
// version the client calls: /v2.x/service.action, or the server's max
// version (2.31) without a version in the path; the newest schema version
// not above it applies. The fake is stricter than the server: a request
// field the schema does not name gives 400/12 (the real server drops most
// of them silently, so a client relying on one loses data without an
// error), except the fields the server's code is known to read
// (tasks.create: runtime, error, input). Missing required fields, wrong
// JSON types and bad enum values give 400/12 as on the server. An answer
// of the fake that its response schema does not allow gives 500: a test
// fails rather than the fake answering what the real server would not.
// Unknown endpoints, and versions older than an endpoint, give 404; the
// fake has no schemas below 2.9 and answers 500 there.
//
// State: projects, tasks, events, models and files are kept, so reads and
// verification work. Unknown ids answer as the server does: 400/101
// (task), 400/201 (model), 400/401 (project); *.get_all lists are empty.
// Both servers are wrapped with one synctest.Faults.
//
// Auth: auth.login (Basic or Bearer) issues opaque tokens shaped like a JWT
// (three base64url parts; the payload has exp, iat, api_version "2.31";
// lifetime 30 days or expiration_sec, capped at one year). Every API call
// accepts Bearer or Basic; the file server accepts Bearer only (header or
// the clearml_token_basic cookie). ExpireTokens revokes all tokens.
//
// Events are stored as event_bll.py does: scalar, debug-image and plot
// events are keyed by md5(task-iter-metric-variant[-key]) and overwrite,
// log events always add; metric and variant default to "", a missing iter
// stays missing, plots of 100,000 characters or more are stored (and read
// back) zlib-compressed in plot_data. events.get_task_events pages by
// iteration as the server does (see eventsGetTaskEvents), including its
// quirks: a scroll restarts after a page ending at iteration 0, and a page
// ending with a log event fails with 500. events.get_task_log pages by
// timestamp.
//
// Deliberate simplifications, which a client must not rely on either way:
//   - tags/system_tags filters in *.get_all match tasks/models/projects
//     having ALL the given tags (the real server matches ANY unless the
//     list contains "__$all"); "__$any" switches to any-of, and a "-tag"
//     entry excludes entities having that tag.
//   - name filters are Go regular expressions (RE2), case-sensitive.
//   - totals of event reads are capped at 10,000, as the schemas document.
//   - models.update_for_task answers 301 above API 2.13 and is not
//     implemented below.
package clearmltest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// Default credentials and versions of a new Server.
const (
	DefaultAccessKey = "TESTACCESSKEY"
	DefaultSecretKey = "TESTSECRETKEY1234"
	// APIVersion is the server's max API version (token api_version).
	APIVersion = "2.31"
	// ServerVersion is the reported server version.
	ServerVersion = "2.0.0"
)

// Server is a fake ClearML API server plus file server.
type Server struct {
	// API is the API server (auth, projects, tasks, events, models).
	API *httptest.Server
	// Files is the file server.
	Files *httptest.Server
	// Faults wraps both servers.
	Faults *synctest.Faults
	// AccessKey and SecretKey are the valid credentials. They may be
	// changed before the first request.
	AccessKey, SecretKey string

	mu       sync.Mutex
	signKey  []byte
	tokens   map[string]time.Time // token → expiry
	calls    map[string]int
	versions map[string]map[string]int // endpoint → requested version → calls
	projects []*Project
	tasks    []*Task
	models   []*Model
	events   map[string]map[string]*Event // task id → event id → event
	writes   map[string]int
	files    map[string][]byte
	seq      int64
	now      func() time.Time
}

// New starts both servers. The caller must Close the Server.
func New() *Server {
	s := &Server{
		Faults:    synctest.New(),
		AccessKey: DefaultAccessKey,
		SecretKey: DefaultSecretKey,
		signKey:   []byte(newID()),
		tokens:    map[string]time.Time{},
		calls:     map[string]int{},
		versions:  map[string]map[string]int{},
		events:    map[string]map[string]*Event{},
		writes:    map[string]int{},
		files:     map[string][]byte{},
		now:       time.Now,
	}
	s.API = httptest.NewServer(s.Faults.Wrap(http.HandlerFunc(s.serveAPI)))
	s.Files = httptest.NewServer(s.Faults.Wrap(http.HandlerFunc(s.serveFiles)))
	return s
}

// Close shuts both servers down.
func (s *Server) Close() {
	s.API.Close()
	s.Files.Close()
}

// WebURL returns a fake web UI host (never served).
func (s *Server) WebURL() string { return "http://clearml-web.test" }

// ExpireTokens invalidates every token issued so far; later requests with
// them get 401/30 (the client should log in again).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// Projects returns copies of all projects, in creation order.
func (s *Server) Projects() []Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Project, len(s.projects))
	for i, p := range s.projects {
		out[i] = p.clone()
	}
	return out
}

// Tasks returns copies of all tasks, in creation order.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Task, len(s.tasks))
	for i, t := range s.tasks {
		out[i] = t.clone()
	}
	return out
}

// Task returns a copy of the task with the given id.
func (s *Server) Task(id string) (Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.task(id)
	if t == nil {
		return Task{}, false
	}
	return t.clone(), true
}

// Events returns copies of the current events of a task (or model, for
// model events), after id overwrites, ordered by type, metric, variant,
// iter, key, then arrival.
func (s *Server) Events(taskID string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, 0, len(s.events[taskID]))
	for _, e := range s.events[taskID] {
		out = append(out, e.clone())
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		if a.Variant != b.Variant {
			return a.Variant < b.Variant
		}
		if a.Iter != b.Iter {
			return a.Iter < b.Iter
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.seq < b.seq
	})
	return out
}

// EventWrites returns how many events were written for a task, including
// overwrites of existing event ids.
func (s *Server) EventWrites(taskID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes[taskID]
}

// File returns a copy of a stored file-server object (path relative to the
// root, without a leading slash).
func (s *Server) File(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[path]
	if !ok {
		return nil, false
	}
	return append([]byte{}, b...), true
}

// FilePaths returns the stored file-server paths, sorted.
func (s *Server) FilePaths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.files))
	for p := range s.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Models returns copies of all models, in creation order.
func (s *Server) Models() []Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Model, len(s.models))
	for i, m := range s.models {
		out[i] = m.clone()
	}
	return out
}

// Calls returns how many requests reached the endpoint (e.g.
// "tasks.create") and passed authentication, including those that failed
// validation afterwards.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// DeleteProject deletes a project with its tasks, their events and
// models, as the web UI's "delete project" does.
func (s *Server) DeleteProject(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []*Task
	for _, t := range s.tasks {
		if t.Project == id {
			delete(s.events, t.ID)
			continue
		}
		keep = append(keep, t)
	}
	s.tasks = keep
	var models []*Model
	for _, m := range s.models {
		if m.Project != id {
			models = append(models, m)
		}
	}
	s.models = models
	var projects []*Project
	for _, p := range s.projects {
		if p.ID != id {
			projects = append(projects, p)
		}
	}
	s.projects = projects
}

// CallsAt returns how many of Calls(endpoint) asked for API version
// (the /v2.x/ of the path, or the server's max version without one).
func (s *Server) CallsAt(endpoint, version string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[endpoint][version]
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Lookups; callers hold s.mu.

func (s *Server) task(id string) *Task {
	for _, t := range s.tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (s *Server) model(id string) *Model {
	for _, m := range s.models {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func (s *Server) project(id string) *Project {
	for _, p := range s.projects {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *Server) projectByName(name string) *Project {
	for _, p := range s.projects {
		if p.Name == name {
			return p
		}
	}
	return nil
}
