// Package comettest is an in-process fake of the Comet REST API v2
// (/api/rest/v2/), plus the clientlib batch endpoints `comet upload` sends
// metrics and parameters to, for the sync tests of the Comet client.
//
// The batch endpoints (<root>/clientlib/batch/logger/experiment/metric
// and …/parameter, comet-api.md §5.9) take gzip bodies and validate each
// value as the SDK writes it (MetricMessage and ParameterMessage
// repr_json_batch: the keys of the SDK's offline message schemas plus
// context and timestamp, all of them, no others), at most 1,000 metric
// values a request. A batch is checked whole before anything is stored:
// one invalid value refuses it all. What a batch stores reads back
// exactly as the same values written one request each. WithoutBatch makes
// them answer as a server without them (404 or 405).
//
// Console lines (write/experiment/output) are kept in arrival order and
// read back by experiment/output as one text.
//
// The fake authenticates with the raw Authorization header and validates
// every request against JSON Schema documents written from comet-api.md
// (schemas/: request/ bodies, query/ query parameters, asset/ the content
// of confusion matrices and image annotations). They are strict: an
// unknown field, a missing required one or a wrong JSON type gives 400
// with a Comet error body {"msg":"...","code":400,"sdk_error_code":N}, N
// the documented code where one exists (e.g. 98219 for a missing project
// name, given in the schema as x-comet-errors), else 0. Its own answers
// are validated against response/ where the spec gives their shape: they
// hold the documented fields, all of them and no others, so a client that
// relies on a field the real server does not give fails here too (a
// mismatch is a 500). It keeps state so that the read endpoints and the
// accessors (Experiments, Experiment, Calls) can verify a sync, and is
// wrapped with a synctest.Faults.
//
// Lookups of what does not exist (an unknown project in experiments?… and
// project?…, an unknown key in experiment/*?experimentKey=K) answer an
// error, never an empty answer, as the real server does (comet-api.md §3):
// 404 as newer servers do, or 400 "Project not found" as older ones do
// (see [NotFound]). Tests of a client run against both.
//
// Deliberate simplifications, which a client must not rely on either way:
//   - metric points are never deduplicated or down-sampled;
//   - values in read answers (metricValue, valueCurrent, ...) are strings,
//     as the real server sends them; numbers are rendered from float64
//     (strconv 'g' format), so 1850.0 reads back as "1850";
//   - unknown query parameters are ignored on reads (as servers do),
//     refused on upload-asset;
//   - the answers whose shape the spec does not give (writes other than
//     the creates, experiment/tags, the batches, the console output) are
//     {}, and upload-asset
//     answers the assetId a third-party client reads; a client should
//     read none of them.
package comettest

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// Defaults of a new Server.
const (
	DefaultAPIKey    = "TESTCOMETAPIKEY0123456789"
	DefaultWorkspace = "test-ws"
	// UserName is the user name reported by account-details.
	UserName = "test-user"
	// RESTPrefix is the path prefix of every REST endpoint.
	RESTPrefix = "/api/rest/v2/"
)

// NotFound is how a [Server] answers a lookup of what does not exist.
type NotFound int

const (
	// NotFound404 answers 404, as newer servers do.
	NotFound404 NotFound = iota
	// NotFound400 answers 400 (e.g. "Project not found"), as older
	// servers do.
	NotFound400
)

// NotFoundModes are both answers, for tests that must pass against
// either kind of server.
var NotFoundModes = []NotFound{NotFound404, NotFound400}

// String is "404" or "400".
func (m NotFound) String() string {
	if m == NotFound400 {
		return "400"
	}
	return "404"
}

// Server is a fake Comet server. Exported fields may be changed before the
// first request only.
type Server struct {
	// Server is the HTTP server; URL is the root, the REST base is
	// URL + "/api/rest/v2/".
	*httptest.Server
	// Faults wraps the whole server.
	Faults *synctest.Faults
	// APIKey is the only valid API key.
	APIKey string
	// Workspace is the default workspace of the key's user; it is always
	// a valid workspace (see AddWorkspace for more).
	Workspace string
	// MaxUploadBytes limits the size of an uploaded file part; 0 means
	// unlimited. Larger uploads get 400 with an upload-limit
	// sdk_error_code (7000001 for images and plain assets, 7000014 for
	// model elements, ...).
	MaxUploadBytes int64
	// NotFound is how lookups of an unknown project or experiment key are
	// answered (default NotFound404).
	NotFound NotFound
	// WithoutBatch, when set (404 or 405), makes the clientlib batch
	// endpoints answer that status to every request, as a server without
	// them would (an unknown route: 404; a route that takes no POST: 405);
	// the REST v2 endpoints are served as always. 0 serves them.
	WithoutBatch int

	mu          sync.Mutex
	workspaces  []string
	projects    []*project
	experiments []*exp
	byKey       map[string]*exp
	calls       map[string]int
	invalid     []string
	limits      []*trouble
	drops       []*trouble
}

// New starts a Server. The caller must Close it.
func New() *Server {
	s := &Server{
		Faults:    synctest.New(),
		APIKey:    DefaultAPIKey,
		Workspace: DefaultWorkspace,
		byKey:     map[string]*exp{},
		calls:     map[string]int{},
	}
	s.Server = httptest.NewServer(s.Faults.Wrap(http.HandlerFunc(s.serve)))
	return s
}

// URLOverride returns what COMET_URL_OVERRIDE would hold for this server:
// URL + "/clientlib/".
func (s *Server) URLOverride() string { return s.URL + "/clientlib/" }

// RESTBase returns URL + "/api/rest/v2/".
func (s *Server) RESTBase() string { return s.URL + RESTPrefix }

// AddWorkspace makes name a valid workspace of the key's user, in addition
// to Workspace.
func (s *Server) AddWorkspace(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.workspaces, name) {
		s.workspaces = append(s.workspaces, name)
	}
}

// Experiments returns snapshots of all experiments, in creation order.
func (s *Server) Experiments() []Experiment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Experiment, len(s.experiments))
	for i, e := range s.experiments {
		out[i] = e.snapshot()
	}
	return out
}

// Experiment returns a snapshot of the experiment with the given key.
func (s *Server) Experiment(key string) (Experiment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byKey[key]
	if e == nil {
		return Experiment{}, false
	}
	return e.snapshot(), true
}

// Calls returns how many requests reached path (relative to the REST base,
// e.g. "write/experiment/metric", or "clientlib/…" for the clientlib batch
// endpoints) after passing authentication, whatever their outcome.
// Requests stopped by an injected fault are not counted.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.TrimPrefix(path, "/")]
}

// InvalidRequests returns the refusals of malformed requests (those their
// schemas or form checks refuse; not answers about the server's state such
// as an unknown experiment or a lookup of what does not exist), as
// "endpoint: message", in arrival order. A client's tests require none.
func (s *Server) InvalidRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.invalid...)
}

// DeleteExperiment removes the experiment with the given key, as a user
// deleting it in the web UI would; it reports whether it existed.
func (s *Server) DeleteExperiment(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byKey[key]
	if e == nil {
		return false
	}
	delete(s.byKey, key)
	s.experiments = slices.DeleteFunc(s.experiments, func(x *exp) bool { return x == e })
	return true
}

// notFound is the answer to a lookup of what does not exist: what is
// "Project" or "Experiment". Call with s.mu held.
func (s *Server) notFound(what string) *apiError {
	if s.NotFound == NotFound400 {
		return refused(0, "%s not found", what)
	}
	return &apiError{status: http.StatusNotFound, msg: what + " not found"}
}

// workspaceNames returns the valid workspaces, Workspace first. Call with
// s.mu held.
func (s *Server) workspaceNames() []string {
	out := []string{s.Workspace}
	for _, w := range s.workspaces {
		if w != s.Workspace {
			out = append(out, w)
		}
	}
	return out
}

// unreadable answers a body that could not be read to its end: the
// client went away part-way (a sync killed mid-request), which is not a
// malformed request.
func unreadable(err error) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: "Cannot read body: " + err.Error()}
}

// decompress replaces a gzip-encoded body by its decompressed form.
func decompress(r *http.Request) *apiError {
	switch ce := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
		return nil
	case "gzip":
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return unreadable(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return badRequest(0, "Malformed gzip body: %v", err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			return badRequest(0, "Malformed gzip body: %v", err)
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		r.ContentLength = int64(len(b))
		r.Header.Del("Content-Encoding")
		return nil
	default:
		return &apiError{status: http.StatusUnsupportedMediaType, msg: "Unsupported Content-Encoding " + ce, invalid: true}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"msg":"fake server: cannot encode answer","code":500,"sdk_error_code":0}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeErr answers an error, in the shape of schemas/response/error.json.
func writeErr(w http.ResponseWriter, e *apiError) {
	out := map[string]any{"msg": e.msg, "code": e.status, "sdk_error_code": e.sdk}
	if schemas, err := loadSchemas(); err == nil {
		if err := schemas.checkAnswer("response/error.json", out); err != nil {
			out = map[string]any{"msg": "fake server: an error answer does not match schemas/response/error.json: " + err.Error(), "code": 500, "sdk_error_code": 0}
			e = &apiError{status: http.StatusInternalServerError}
		}
	}
	writeJSON(w, e.status, out)
}

// newID returns 32 random lowercase hex digits.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func nowMillis() int64 { return time.Now().UnixMilli() }
