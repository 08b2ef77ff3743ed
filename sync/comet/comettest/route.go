package comettest

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// call is one request as a handler sees it: the query and the body, both
// already valid against their schemas.
type call struct {
	r     *http.Request
	query url.Values
	// body is the body as sent (decompressed).
	body []byte
	// fields is the JSON body (numbers as json.Number), for routes with
	// a body schema.
	fields map[string]any
}

// handler serves one endpoint, with s.mu held. It returns the answer to
// encode as JSON, or an error.
type handler func(s *Server, c *call) (any, *apiError)

// route is one endpoint and the schemas (paths under schemas/) of its
// query, its JSON body and its answer; "" where nothing is checked: a body
// that is not JSON, or an answer whose shape the spec does not give
// (write/experiment/* other than create, experiment/tags, upload-asset).
type route struct {
	method string
	h      handler
	query  string
	body   string
	answer string
}

// ClientlibPrefix is the path prefix of the internal endpoints `comet
// upload` sends batches to (relative to COMET_URL_OVERRIDE).
const ClientlibPrefix = "/clientlib/"

// routes are keyed by path relative to the REST base, or "clientlib/…"
// for the clientlib batch endpoints (comet-api.md §5.9).
var routes = map[string]route{
	"write/project/create":                {http.MethodPost, (*Server).createProject, "", "request/write/project/create.json", "response/write/project/create.json"},
	"write/experiment/create":             {http.MethodPost, (*Server).createExperiment, "", "request/write/experiment/create.json", "response/write/experiment/create.json"},
	"write/experiment/log-other":          {http.MethodPost, (*Server).logOther, "", "request/write/experiment/log-other.json", ""},
	"write/experiment/parameter":          {http.MethodPost, (*Server).logParameter, "", "request/write/experiment/parameter.json", ""},
	"write/experiment/metric":             {http.MethodPost, (*Server).logMetric, "", "request/write/experiment/metric.json", ""},
	"write/experiment/tags":               {http.MethodPost, (*Server).addTags, "", "request/write/experiment/tags.json", ""},
	"write/experiment/upload-asset":       {http.MethodPost, (*Server).uploadAsset, "query/write/experiment/upload-asset.json", "", ""},
	"write/experiment/set-start-end-time": {http.MethodPost, (*Server).setStartEnd, "", "request/write/experiment/set-start-end-time.json", ""},
	"write/experiment/update-status":      {http.MethodPost, (*Server).updateStatus, "", "request/write/experiment/update-status.json", ""},
	"write/experiment/output":             {http.MethodPost, (*Server).writeOutput, "", "request/write/experiment/output.json", ""},
	"account-details":                     {http.MethodGet, (*Server).accountDetails, "", "", "response/account-details.json"},
	"workspaces":                          {http.MethodGet, (*Server).listWorkspaces, "", "", "response/workspaces.json"},
	"projects":                            {http.MethodGet, (*Server).listProjects, "query/workspace.json", "", "response/projects.json"},
	"project":                             {http.MethodGet, (*Server).getProject, "query/project.json", "", "response/project.json"},
	"experiments":                         {http.MethodGet, (*Server).listExperiments, "query/experiments.json", "", "response/experiments.json"},
	"experiment/metadata":                 {http.MethodGet, (*Server).metadata, "query/experiment.json", "", "response/experiment/metadata.json"},
	"experiment/log-other":                {http.MethodGet, (*Server).readOthers, "query/experiment.json", "", "response/experiment/log-other.json"},
	"experiment/parameters":               {http.MethodGet, (*Server).readParameters, "query/experiment.json", "", "response/experiment/parameters.json"},
	"experiment/tags":                     {http.MethodGet, (*Server).readTags, "query/experiment.json", "", ""},
	"experiment/metrics/get-all":          {http.MethodGet, (*Server).readAllMetrics, "query/experiment.json", "", "response/experiment/metrics/get-all.json"},
	"experiment/metrics/get-metric":       {http.MethodGet, (*Server).readMetric, "query/experiment/metrics/get-metric.json", "", "response/experiment/metrics/get-metric.json"},
	"experiment/metrics/summary":          {http.MethodGet, (*Server).metricsSummary, "query/experiment.json", "", "response/experiment/metrics/summary.json"},
	"experiment/asset/list":               {http.MethodGet, (*Server).listAssets, "query/experiment/asset/list.json", "", "response/experiment/asset/list.json"},
	"experiment/model":                    {http.MethodGet, (*Server).listModels, "query/experiment.json", "", "response/experiment/model.json"},
	"experiment/asset/get-asset":          {http.MethodGet, (*Server).getAsset, "query/experiment/asset/get-asset.json", "", ""},
	"experiment/output":                   {http.MethodGet, (*Server).readOutput, "query/experiment.json", "", "response/experiment/output.json"},

	"clientlib/batch/logger/experiment/metric":    {http.MethodPost, (*Server).batchMetrics, "", "request/clientlib/batch/logger/experiment/metric.json", ""},
	"clientlib/batch/logger/experiment/parameter": {http.MethodPost, (*Server).batchParameters, "", "request/clientlib/batch/logger/experiment/parameter.json", ""},
}

// routeName maps a URL path to its key in routes ("" when unknown).
func routeName(path string) string {
	if name, ok := strings.CutPrefix(path, RESTPrefix); ok && !strings.HasPrefix(name, "clientlib/") {
		return name
	}
	if rest, ok := strings.CutPrefix(path, ClientlibPrefix); ok {
		return "clientlib/" + rest
	}
	return ""
}

// rawBytes is an answer sent as application/octet-stream.
type rawBytes []byte

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	name := routeName(r.URL.Path)
	rt, known := routes[name]
	if !known {
		writeErr(w, &apiError{status: http.StatusNotFound, msg: "Not found"})
		return
	}
	schemas, err := loadSchemas()
	if err != nil {
		writeErr(w, &apiError{status: http.StatusInternalServerError, msg: "fake server: schemas: " + err.Error()})
		return
	}
	s.mu.Lock()
	key := s.APIKey
	s.mu.Unlock()
	if got := r.Header.Get("Authorization"); got == "" || got != key {
		writeErr(w, &apiError{status: http.StatusUnauthorized, msg: "Invalid API key", sdk: CodeInvalidAPIKey})
		return
	}
	s.mu.Lock()
	s.calls[name]++
	without := s.WithoutBatch
	limited := s.take(s.limits, name)
	s.mu.Unlock()
	if limited != nil {
		// Comet's throttling answer: the wait in Retry-After-Custom
		// (seconds), not the standard Retry-After (comet-api.md §4.2).
		w.Header().Set("Retry-After-Custom", strconv.FormatFloat(limited.after.Seconds(), 'f', -1, 64))
		writeErr(w, &apiError{status: http.StatusTooManyRequests, msg: "Too many requests: the experiment is throttled"})
		return
	}
	if without != 0 && strings.HasPrefix(name, "clientlib/batch/") {
		// A server without the batch endpoints (see WithoutBatch): an
		// unknown route, not a malformed request.
		writeErr(w, &apiError{status: without, msg: http.StatusText(without)})
		return
	}
	if r.Method != rt.method {
		s.refuse(w, name, &apiError{status: http.StatusMethodNotAllowed, msg: "Method " + r.Method + " not allowed, use " + rt.method, invalid: true})
		return
	}
	c, aerr := readCall(r, rt, schemas)
	if aerr != nil {
		s.refuse(w, name, aerr)
		return
	}
	s.mu.Lock()
	out, aerr := rt.h(s, c)
	lost := aerr == nil && s.take(s.drops, name) != nil
	s.mu.Unlock()
	if aerr != nil {
		s.refuse(w, name, aerr)
		return
	}
	if lost {
		dropConnection(w)
		return
	}
	if b, ok := out.(rawBytes); ok {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return
	}
	if rt.answer != "" {
		if err := schemas.checkAnswer(rt.answer, out); err != nil {
			writeErr(w, &apiError{status: http.StatusInternalServerError,
				msg: "fake server: the answer to " + name + " does not match schemas/" + rt.answer + ": " + err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// refuse answers an error, and keeps the refusal of a malformed request
// for InvalidRequests.
func (s *Server) refuse(w http.ResponseWriter, name string, e *apiError) {
	if e.invalid {
		s.mu.Lock()
		s.invalid = append(s.invalid, name+": "+e.msg)
		s.mu.Unlock()
	}
	writeErr(w, e)
}

// readCall reads and checks a request's query and body against the
// route's schemas.
func readCall(r *http.Request, rt route, schemas *schemaSet) (*call, *apiError) {
	if err := decompress(r); err != nil {
		return nil, err
	}
	if rt.body != "" {
		if err := checkJSONType(r); err != nil {
			return nil, err
		}
	}
	c := &call{r: r, query: r.URL.Query()}
	if rt.query != "" {
		q, err := queryObject(c.query)
		if err != nil {
			return nil, err
		}
		if err := schemas.check(rt.query, q, inQuery); err != nil {
			return nil, err
		}
	}
	if r.Method == http.MethodPost {
		// Read before taking the lock so a slow client does not block
		// other requests.
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, unreadable(err)
		}
		c.body = b
	}
	if rt.body != "" {
		m, err := decodeObject(c.body)
		if err != nil {
			return nil, err
		}
		if err := schemas.check(rt.body, m, inBody); err != nil {
			return nil, err
		}
		c.fields = m
	}
	return c, nil
}

// trouble is a failure of the next n requests to one endpoint (see
// RateLimit and DropAnswers).
type trouble struct {
	path  string
	n     int
	after time.Duration
}

// take consumes one failure of list planned for the endpoint name, if
// any. Call with s.mu held.
func (s *Server) take(list []*trouble, name string) *trouble {
	for _, t := range list {
		if t.path == name && t.n > 0 {
			t.n--
			return t
		}
	}
	return nil
}

// RateLimit makes the next n requests to path (as Calls names it) answer
// 429 as Comet throttles: with the wait in a Retry-After-Custom header
// (seconds, fractions allowed) and no Retry-After. Nothing is stored.
func (s *Server) RateLimit(path string, n int, after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &trouble{path: path, n: n, after: after})
}

// DropAnswers makes the next n valid requests to path (as Calls names it)
// take effect and then lose their answer: the connection is closed
// without one, as when a proxy or the network fails after the server
// acted. A client must read back before it sends such a request again.
func (s *Server) DropAnswers(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops = append(s.drops, &trouble{path: path, n: n})
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
