package mlflowtest

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/synctest/faults"
)

// Path prefixes of the two APIs.
const (
	TrackingPrefix  = "/api/2.0/mlflow/"
	ArtifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts"
)

// History is how metrics/get-history pages (see the package comment).
type History int

const (
	// HistoryPaged pages with max_results and page_token, as a server with
	// a database backend does.
	HistoryPaged History = iota
	// HistoryFileStore returns every point and refuses a page_token with
	// 500, as a server with a file store backend does (file_store.py
	// get_metric_history).
	HistoryFileStore
)

// HistoryModes are both answers.
var HistoryModes = []History{HistoryPaged, HistoryFileStore}

// String names the mode.
func (h History) String() string {
	if h == HistoryFileStore {
		return "filestore"
	}
	return "paged"
}

// LongValues is how a param or tag value over MLflow's limit is answered.
type LongValues int

const (
	// RefuseLong answers 400 INVALID_PARAMETER_VALUE.
	RefuseLong LongValues = iota
	// TruncateLong keeps the first 6000 (param) or 5000 (tag) characters,
	// as a server with MLFLOW_TRUNCATE_LONG_VALUES does.
	TruncateLong
)

// LongValueModes are both answers.
var LongValueModes = []LongValues{RefuseLong, TruncateLong}

// Auth is the authentication a Server requires.
type Auth int

const (
	// AuthNone requires nothing (mlflow server's default).
	AuthNone Auth = iota
	// AuthBasic requires HTTP basic auth with Username and Password.
	AuthBasic
	// AuthBearer requires "Authorization: Bearer <Token>".
	AuthBearer
)

// Defaults of a new Server's credentials.
const (
	DefaultUsername = "admin"
	DefaultPassword = "password1234"
	DefaultToken    = "test-mlflow-token-0123456789"
)

// Server is a fake MLflow tracking server. Exported fields may be changed
// before the first request only.
type Server struct {
	// Server is the HTTP server; URL is the tracking URI.
	*httptest.Server
	// Faults wraps the whole server.
	Faults *faults.Faults
	// Auth, Username, Password and Token are the credentials required.
	Auth               Auth
	Username, Password string
	Token              string
	// History and LongValues choose how the server answers where
	// servers differ.
	History    History
	LongValues LongValues
	// NoServeArtifacts makes the server run as `mlflow server
	// --no-serve-artifacts`: runs get a file: artifact root and the
	// artifacts proxy answers 503.
	NoServeArtifacts bool

	mu          sync.Mutex
	experiments []*experiment
	runs        map[string]*run
	runOrder    []string
	artifacts   map[string][]byte
	calls       map[string]int
	invalid     []string
	now         func() time.Time
}

type experiment struct {
	filestore.Experiment
	tags map[string]string
}

type run struct {
	info        filestore.RunInfo
	params      map[string]string
	tags        map[string]string
	metrics     map[string][]filestore.Metric
	metricOrder []string
}

// Run is a snapshot of a run for tests.
type Run struct {
	Info   filestore.RunInfo
	Params map[string]string
	Tags   map[string]string
	// Metrics holds each metric's whole history, in logging order.
	Metrics map[string][]filestore.Metric
	// Artifacts holds the run's artifacts by path relative to its
	// artifact root ("weights/best.pt").
	Artifacts map[string][]byte
}

// New starts a Server with the Default experiment "0". The caller must
// Close it.
func New() *Server {
	s := newFake()
	s.Server = httptest.NewServer(s.Faults.Wrap(http.HandlerFunc(s.serve)))
	return s
}

// NewTLS starts a Server over https with httptest's self-signed
// certificate (Certificate returns it). cfg, when not nil, holds the
// server's other TLS options (ClientAuth and ClientCAs to require a
// client certificate). The caller must Close it.
func NewTLS(cfg *tls.Config) *Server {
	s := newFake()
	s.Server = httptest.NewUnstartedServer(s.Faults.Wrap(http.HandlerFunc(s.serve)))
	s.Server.TLS = cfg
	s.Server.StartTLS()
	return s
}

func newFake() *Server {
	s := &Server{
		Faults:    faults.New(mlflowAnswers),
		Username:  DefaultUsername,
		Password:  DefaultPassword,
		Token:     DefaultToken,
		runs:      map[string]*run{},
		artifacts: map[string][]byte{},
		calls:     map[string]int{},
		now:       time.Now,
	}
	ms := s.now().UnixMilli()
	s.experiments = []*experiment{{Experiment: filestore.Experiment{ID: "0", Name: filestore.DefaultExperimentName,
		ArtifactLocation: "mlflow-artifacts:/0", LifecycleStage: filestore.Active, CreationTime: ms, LastUpdateTime: ms}, tags: map[string]string{}}}
	return s
}

// Calls returns how many authenticated requests reached an endpoint,
// named as "runs/log-batch" (tracking) or "mlflow-artifacts PUT" and
// "mlflow-artifacts GET", whatever their outcome.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// InvalidRequests returns the refusals of malformed requests (not answers
// about state, such as an unknown run) and the fields the server ignored,
// as "endpoint: message", in arrival order. A client's tests require none.
func (s *Server) InvalidRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.invalid...)
}

// Experiments returns the experiments, in creation order.
func (s *Server) Experiments() []filestore.Experiment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]filestore.Experiment, len(s.experiments))
	for i, e := range s.experiments {
		out[i] = e.Experiment
	}
	return out
}

// Runs returns snapshots of every run, in creation order.
func (s *Server) Runs() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Run, 0, len(s.runOrder))
	for _, id := range s.runOrder {
		out = append(out, s.snapshot(s.runs[id]))
	}
	return out
}

// Run returns a snapshot of the run with the id.
func (s *Server) Run(id string) (Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runs[id]
	if r == nil {
		return Run{}, false
	}
	return s.snapshot(r), true
}

func (s *Server) snapshot(r *run) Run {
	out := Run{Info: r.info, Params: map[string]string{}, Tags: map[string]string{}, Metrics: map[string][]filestore.Metric{}, Artifacts: map[string][]byte{}}
	for k, v := range r.params {
		out.Params[k] = v
	}
	for k, v := range r.tags {
		out.Tags[k] = v
	}
	for k, v := range r.metrics {
		out.Metrics[k] = slices.Clone(v)
	}
	prefix := s.artifactRoot(r) + "/"
	for p, b := range s.artifacts {
		if strings.HasPrefix(p, prefix) {
			out.Artifacts[strings.TrimPrefix(p, prefix)] = slices.Clone(b)
		}
	}
	return out
}

// artifactRoot is the run's directory in the proxied artifact store:
// <experiment id>/<run id>/artifacts (handlers.py
// _get_proxied_run_artifact_destination_path of mlflow-artifacts:/…).
func (s *Server) artifactRoot(r *run) string {
	return r.info.ExperimentID + "/" + r.info.RunID + "/" + filestore.ArtifactsDir
}

// apiError is an MLflow error answer.
type apiError struct {
	code string
	msg  string
	// invalid marks the refusal of a malformed request.
	invalid bool
}

// statusOf is mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS.
func statusOf(code string) int {
	switch code {
	case "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND":
		return http.StatusNotFound
	case "INVALID_PARAMETER_VALUE", "RESOURCE_ALREADY_EXISTS", "BAD_REQUEST":
		return http.StatusBadRequest
	case "REQUEST_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED":
		return http.StatusTooManyRequests
	case "TEMPORARILY_UNAVAILABLE":
		return http.StatusServiceUnavailable
	case "PERMISSION_DENIED":
		return http.StatusForbidden
	case "UNAUTHENTICATED", "CUSTOMER_UNAUTHORIZED":
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

func invalidParam(format string, args ...any) *apiError {
	return &apiError{code: "INVALID_PARAMETER_VALUE", msg: fmt.Sprintf(format, args...), invalid: true}
}

// stateError is an INVALID_PARAMETER_VALUE about state (a param that
// changes, a name taken), not a malformed request.
func stateError(code, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{code: "RESOURCE_DOES_NOT_EXIST", msg: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error_code": "INTERNAL_ERROR", "message": "fake server: cannot encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) refuse(w http.ResponseWriter, endpoint string, e *apiError) {
	if e.invalid {
		s.mu.Lock()
		s.invalid = append(s.invalid, endpoint+": "+e.msg)
		s.mu.Unlock()
	}
	writeJSON(w, statusOf(e.code), map[string]string{"error_code": e.code, "message": e.msg})
}

// authenticate answers 401 as mlflow/server/auth does
// (make_basic_auth_response) and reports whether the request may go on.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	ok := true
	challenge := `Basic realm="mlflow"`
	switch s.Auth {
	case AuthBasic:
		u, p, has := r.BasicAuth()
		ok = has && u == s.Username && p == s.Password
	case AuthBearer:
		challenge = `Bearer realm="mlflow"`
		ok = r.Header.Get("Authorization") == "Bearer "+s.Token
	}
	if ok {
		return true
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.")
	return false
}

// htmlError is what Flask answers for an unknown route or method.
func htmlError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!doctype html>\n<html lang=en>\n<title>%d %s</title>\n<h1>%s</h1>\n", status, http.StatusText(status), http.StatusText(status))
}

type handler func(s *Server, c *call) (any, *apiError)

type route struct {
	method string
	h      handler
	// fields are the message's fields (service.proto), for the record of
	// ignored ones.
	fields []string
}

var routes = map[string]route{
	"experiments/get-by-name": {http.MethodGet, (*Server).getExperimentByName, []string{"experiment_name"}},
	"experiments/get":         {http.MethodGet, (*Server).getExperiment, []string{"experiment_id"}},
	"experiments/create":      {http.MethodPost, (*Server).createExperiment, []string{"name", "artifact_location", "tags"}},
	"runs/create":             {http.MethodPost, (*Server).createRun, []string{"experiment_id", "user_id", "run_name", "start_time", "tags"}},
	"runs/update":             {http.MethodPost, (*Server).updateRun, []string{"run_id", "run_uuid", "status", "end_time", "run_name"}},
	"runs/get":                {http.MethodGet, (*Server).getRun, []string{"run_id", "run_uuid"}},
	"runs/log-batch":          {http.MethodPost, (*Server).logBatch, []string{"run_id", "metrics", "params", "tags"}},
	"runs/log-metric":         {http.MethodPost, (*Server).logMetric, []string{"run_id", "run_uuid", "key", "value", "timestamp", "step", "model_id", "dataset_name", "dataset_digest"}},
	"runs/log-parameter":      {http.MethodPost, (*Server).logParam, []string{"run_id", "run_uuid", "key", "value"}},
	"runs/set-tag":            {http.MethodPost, (*Server).setTag, []string{"run_id", "run_uuid", "key", "value"}},
	"runs/search":             {http.MethodPost, (*Server).searchRuns, []string{"experiment_ids", "filter", "run_view_type", "max_results", "order_by", "page_token"}},
	"metrics/get-history":     {http.MethodGet, (*Server).getMetricHistory, []string{"run_id", "run_uuid", "metric_key", "page_token", "max_results"}},
	"artifacts/list":          {http.MethodGet, (*Server).listArtifacts, []string{"run_id", "run_uuid", "path", "page_token"}},
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.authenticate(w, r) {
		return
	}
	if r.URL.Path == ArtifactsPrefix || strings.HasPrefix(r.URL.Path, ArtifactsPrefix+"/") {
		s.serveArtifacts(w, r)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, TrackingPrefix)
	rt, known := routes[name]
	if !ok || !known {
		htmlError(w, http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
	if r.Method != rt.method {
		s.mu.Lock()
		s.invalid = append(s.invalid, name+": method "+r.Method+" not allowed, use "+rt.method)
		s.mu.Unlock()
		htmlError(w, http.StatusMethodNotAllowed)
		return
	}
	c, aerr := readCall(r, name)
	if aerr != nil {
		s.refuse(w, name, aerr)
		return
	}
	s.mu.Lock()
	for k := range c.fields {
		if !slices.Contains(rt.fields, k) {
			s.invalid = append(s.invalid, name+": ignored unknown field "+strconv.Quote(k))
		}
	}
	out, aerr := rt.h(s, c)
	s.mu.Unlock()
	if aerr != nil {
		s.refuse(w, name, aerr)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// maxBody bounds a request body (log-batch's own limit is 1 MB).
const maxBody = 16 << 20

// call is a decoded request: the JSON body of a POST, or the query of a
// GET (a repeated parameter as a list).
type call struct {
	endpoint string
	fields   map[string]any
	size     int
}

func readCall(r *http.Request, endpoint string) (*call, *apiError) {
	c := &call{endpoint: endpoint, fields: map[string]any{}}
	if r.Method == http.MethodGet {
		for k, vs := range r.URL.Query() {
			if len(vs) == 1 && k != "experiment_ids" && k != "run_ids" {
				c.fields[k] = vs[0]
				continue
			}
			l := make([]any, len(vs))
			for i, v := range vs {
				l[i] = v
			}
			c.fields[k] = l
		}
		return c, nil
	}
	// _get_request_json: _validate_content_type requires application/json.
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, invalidParam("Bad Request. Content-Type must be one of ['application/json'], got '%s'", ct)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, invalidParam("cannot read the request body: %v", err)
	}
	c.size = len(b)
	if len(b) == 0 {
		return c, nil
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, invalidParam("Malformed JSON request body: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidParam("Malformed request body: want a JSON object")
	}
	c.fields = m
	return c, nil
}

// The field checks of handlers.py: _assert_required, _assert_string,
// _assert_intlike, _assert_array, with their messages.
const apiDocs = " See the API docs for more information about request parameters."

func missing(field string) *apiError {
	return invalidParam("Missing value for required parameter '%s'.%s", field, apiDocs)
}

func badValue(field string, v any) *apiError {
	b, _ := json.Marshal(v)
	return invalidParam("Invalid value %s for parameter '%s' supplied. Hint: Value was of type '%s'.%s", b, field, pyType(v), apiDocs)
}

func pyType(v any) string {
	switch v.(type) {
	case string:
		return "str"
	case json.Number:
		return "int"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "NoneType"
}

// str reads a string field; absent and null read as "".
func str(m map[string]any, field, path string, required bool) (string, *apiError) {
	v, ok := m[field]
	if !ok || v == nil {
		if required {
			return "", missing(path)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badValue(path, v)
	}
	if required && s == "" {
		return "", missing(path)
	}
	return s, nil
}

// int64Field reads an int64 (a JSON integer, or a string of one as proto
// JSON allows); has is false when absent.
func int64Field(m map[string]any, field, path string, required bool) (n int64, has bool, e *apiError) {
	v, ok := m[field]
	if !ok || v == nil {
		if required {
			return 0, false, missing(path)
		}
		return 0, false, nil
	}
	var t string
	switch x := v.(type) {
	case json.Number:
		t = x.String()
	case string:
		t = x
	default:
		return 0, false, badValue(path, v)
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, false, badValue(path, v)
	}
	return n, true, nil
}

// double reads a proto double: a JSON number, or "NaN", "Infinity",
// "-Infinity" or a numeric string.
func double(m map[string]any, field, path string) (float64, *apiError) {
	v, ok := m[field]
	if !ok || v == nil {
		return 0, missing(path)
	}
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil {
			return 0, badValue(path, v)
		}
		return f, nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		f, err := strconv.ParseFloat(x, 64)
		if err != nil || strings.ContainsAny(x, "xXpPiInN_") {
			return 0, badValue(path, v)
		}
		return f, nil
	}
	return 0, badValue(path, v)
}

func array(m map[string]any, field string) ([]any, *apiError) {
	v, ok := m[field]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, badValue(field, v)
	}
	return l, nil
}

// keyValues reads a repeated {key, value} message (tags, params), the key
// required (_assert_map_key_present / _assert_*_fields_present).
func keyValues(m map[string]any, field string) ([][2]string, *apiError) {
	l, e := array(m, field)
	if e != nil {
		return nil, e
	}
	out := make([][2]string, 0, len(l))
	for i, it := range l {
		o, ok := it.(map[string]any)
		if !ok {
			return nil, badValue(field, it)
		}
		p := fmt.Sprintf("%s[%d]", field, i)
		k, e := str(o, "key", p+".key", true)
		if e != nil {
			return nil, e
		}
		v, e := str(o, "value", p+".value", false)
		if e != nil {
			return nil, e
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// runID reads run_id, or run_uuid when run_id is absent (handlers.py).
func runID(m map[string]any) (string, *apiError) {
	id, e := str(m, "run_id", "run_id", false)
	if e != nil {
		return "", e
	}
	if id == "" {
		id, e = str(m, "run_uuid", "run_uuid", false)
		if e != nil {
			return "", e
		}
	}
	if id == "" {
		return "", missing("run_id")
	}
	return id, nil
}

// mlflowAnswers are the injected errors' bodies, as MLflow's server shapes
// its errors ({"error_code": ..., "message": ...}).
var mlflowAnswers = faults.Answers{
	TooMany:     `{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Too many requests"}`,
	ServerError: `{"error_code": "INTERNAL_ERROR", "message": "Internal server error"}`,
}
