package clearmltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// endpoint is one API call: the oldest API version that has it and its
// handler. Handlers run with s.mu held, on a body that passed the
// endpoint's request schema.
type endpoint struct {
	minVer string
	// batchOf names the endpoint whose request schema each line of a
	// json-lines body follows (events.add_batch: events.add).
	batchOf string
	h       func(s *Server, c *call) (any, *apiError)
}

// endpoints are the calls the fake serves, with the minimum versions of
// the real server (clearml-api.md §2).
var endpoints = map[string]*endpoint{
	"auth.login":                    {minVer: "2.1", h: (*Server).authLogin},
	"projects.get_all":              {minVer: "2.1", h: (*Server).projectsGetAll},
	"projects.create":               {minVer: "2.1", h: (*Server).projectsCreate},
	"tasks.get_all":                 {minVer: "2.1", h: (*Server).tasksGetAll},
	"tasks.get_by_id":               {minVer: "2.1", h: (*Server).tasksGetByID},
	"tasks.create":                  {minVer: "2.1", h: (*Server).tasksCreate},
	"tasks.edit":                    {minVer: "2.1", h: (*Server).tasksEdit},
	"tasks.edit_hyper_params":       {minVer: "2.9", h: (*Server).tasksEditHyperParams},
	"tasks.edit_configuration":      {minVer: "2.9", h: (*Server).tasksEditConfiguration},
	"tasks.started":                 {minVer: "2.1", h: (*Server).tasksStarted},
	"tasks.completed":               {minVer: "2.2", h: (*Server).tasksCompleted},
	"tasks.stopped":                 {minVer: "2.1", h: (*Server).tasksStopped},
	"tasks.failed":                  {minVer: "2.1", h: (*Server).tasksFailed},
	"tasks.close":                   {minVer: "2.1", h: (*Server).tasksClose},
	"tasks.ping":                    {minVer: "2.1", h: (*Server).tasksPing},
	"tasks.update":                  {minVer: "2.1", h: (*Server).tasksUpdate},
	"tasks.add_or_update_model":     {minVer: "2.13", h: (*Server).tasksAddOrUpdateModel},
	"tasks.add_or_update_artifacts": {minVer: "2.10", h: (*Server).tasksAddOrUpdateArtifacts},
	"events.add":                    {minVer: "2.1", h: (*Server).eventsAdd},
	"events.add_batch":              {minVer: "2.1", batchOf: "events.add", h: (*Server).eventsAddBatch},
	"events.get_task_events":        {minVer: "2.1", h: (*Server).eventsGetTaskEvents},
	"events.get_task_log":           {minVer: "2.9", h: (*Server).eventsGetTaskLog},
	"models.create":                 {minVer: "2.1", h: (*Server).modelsCreate},
	"models.edit":                   {minVer: "2.1", h: (*Server).modelsEdit},
	"models.get_all":                {minVer: "2.1", h: (*Server).modelsGetAll},
	"models.get_by_id":              {minVer: "2.1", h: (*Server).modelsGetByID},
	"models.update_for_task":        {minVer: "2.1", h: (*Server).modelsUpdateForTask},
}

// call is one API request being served.
type call struct {
	name string
	ver  string
	// schemaVer is the version of the schema files that apply (the
	// newest not above ver).
	schemaVer string
	body      map[string]any
	// lines are the objects of a json-lines batch body.
	lines  []map[string]any
	r      *http.Request
	w      http.ResponseWriter
	worker string
}

var pathRE = regexp.MustCompile(`^/?(v(\d+\.?\d+)/)?([a-zA-Z_]\w+\.[a-zA-Z_]\w+)/?$`)

const (
	defaultExpiration = 30 * 24 * time.Hour
	maxExpirationSec  = 31536000
)

// verLess reports whether version a < b ("2.9" < "2.13").
func verLess(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := 0; i < 2; i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

type envelopeMeta struct {
	ID            string            `json:"id"`
	Trx           string            `json:"trx"`
	Endpoint      map[string]string `json:"endpoint"`
	ResultCode    int               `json:"result_code"`
	ResultSubcode int               `json:"result_subcode"`
	ResultMsg     string            `json:"result_msg"`
	ErrorStack    any               `json:"error_stack"`
	ErrorData     map[string]any    `json:"error_data"`
}

type envelope struct {
	Meta envelopeMeta `json:"meta"`
	Data any          `json:"data"`
}

func writeEnvelope(w http.ResponseWriter, name, reqVer, actVer string, e *apiError, data any) {
	code, sub, msg := 200, 0, "OK"
	var errData map[string]any
	if e != nil {
		code, sub, msg, errData = e.code, e.subcode, e.msg, e.data
		data = map[string]any{}
	}
	if raw, ok := data.(json.RawMessage); data == nil || ok && (raw == nil || string(raw) == "null") {
		data = map[string]any{}
	}
	if errData == nil {
		errData = map[string]any{}
	}
	id := newID()
	env := envelope{
		Meta: envelopeMeta{
			ID: id, Trx: id,
			Endpoint:   map[string]string{"name": name, "requested_version": reqVer, "actual_version": actVer},
			ResultCode: code, ResultSubcode: sub, ResultMsg: msg, ErrorData: errData,
		},
		Data: data,
	}
	b, err := json.Marshal(env)
	if err != nil {
		code = 500
		b = []byte(`{"meta":{"result_code":500,"result_subcode":1,"result_msg":"Internal server error (encoding response)","error_stack":null,"error_data":{}},"data":{}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// serveAPI answers in the order of the real server (service_repo.py): an
// unknown endpoint or version (404), then authentication (401), then the
// request schema (400/12), then the call itself, whose answer must match
// the response schema.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		name := strings.Trim(r.URL.Path, "/")
		writeEnvelope(w, name, APIVersion, "", errf(404, 0, "Unable to find endpoint for name %s and version %s", name, APIVersion), nil)
		return
	}
	reqVer, name := m[2], m[3]
	if reqVer == "" {
		reqVer = APIVersion
	}
	if r.Header.Get("Content-Encoding") != "" {
		writeEnvelope(w, name, reqVer, "", errf(415, 0, "Unsupported Media Type (Content-Encoding %q is not supported)", r.Header.Get("Content-Encoding")), nil)
		return
	}
	ep := endpoints[name]
	if ep == nil || verLess(reqVer, ep.minVer) {
		writeEnvelope(w, name, reqVer, "", errf(404, 0, "Unable to find endpoint for name %s and version %s", name, reqVer), nil)
		return
	}
	if aerr := s.authenticate(r); aerr != nil {
		writeEnvelope(w, name, reqVer, ep.minVer, aerr, nil)
		return
	}
	s.mu.Lock()
	s.calls[name]++
	if s.versions[name] == nil {
		s.versions[name] = map[string]int{}
	}
	s.versions[name][reqVer]++
	s.mu.Unlock()

	sv := schemaVersion(name, reqVer)
	if sv == "" {
		writeEnvelope(w, name, reqVer, ep.minVer, errf(500, 0, "clearmltest: no schema for %s at API %s (the fake serves versions %s to %s and later)",
			name, reqVer, schemaVersions[0], schemaVersions[len(schemaVersions)-1]), nil)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeEnvelope(w, name, reqVer, ep.minVer, errf(400, 0, "Bad request (reading body: %v)", err), nil)
		return
	}
	c := &call{name: name, ver: reqVer, schemaVer: sv, r: r, w: w, worker: r.Header.Get("X-ClearML-Worker")}
	if c.worker == "" {
		c.worker = r.Header.Get("X-Trains-Worker")
	}
	var aerr *apiError
	if ep.batchOf != "" {
		c.lines, aerr = parseBatch(r, raw, sv, ep.batchOf)
	} else {
		c.body, aerr = parseBody(r, raw, sv, name)
	}
	if aerr != nil {
		writeEnvelope(w, name, reqVer, ep.minVer, aerr, nil)
		return
	}
	s.mu.Lock()
	data, aerr := ep.h(s, c)
	s.mu.Unlock()
	var answer json.RawMessage
	if aerr == nil {
		if answer, err = json.Marshal(data); err != nil {
			aerr = errf(500, 0, "clearmltest: encoding the answer to %s: %v", name, err)
		} else {
			aerr = validateResponse(sv, name, answer)
		}
	}
	writeEnvelope(w, name, reqVer, ep.minVer, aerr, answer)
}

// parseBody decodes a JSON body, merges the query string, drops nulls and
// validates the result.
func parseBody(r *http.Request, raw []byte, sv, name string) (map[string]any, *apiError) {
	body := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, validationErr("invalid JSON body: %v", err)
		}
		o, ok := v.(map[string]any)
		if !ok {
			return nil, validationErr("request body must be a JSON object")
		}
		body = o
	}
	applyQuery(body, r.URL.Query())
	dropNulls(body)
	if aerr := validateRequest(sv, name, body); aerr != nil {
		return nil, aerr
	}
	return body, nil
}

// parseBatch decodes a json-lines body (Content-Type
// application/json-lines, one object per line) and validates each line
// with the request schema of the endpoint the batch is made of.
func parseBatch(r *http.Request, raw []byte, sv, of string) ([]map[string]any, *apiError) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json-lines" {
		return nil, validationErr("a batch expects Content-Type application/json-lines, got %q", ct)
	}
	var lines []map[string]any
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := decodeJSON(line)
		if err != nil {
			return nil, validationErr("line %d: invalid JSON: %v", i+1, err)
		}
		o, ok := v.(map[string]any)
		if !ok {
			return nil, validationErr("json lines must contain objects (line %d)", i+1)
		}
		dropNulls(o)
		if aerr := validateRequest(sv, of, o); aerr != nil {
			aerr.msg = strings.Replace(aerr.msg, "(", fmt.Sprintf("(batch item #%d: ", len(lines)), 1)
			return nil, aerr
		}
		lines = append(lines, o)
	}
	return lines, nil
}

// isoTime formats a time as the server does; the zero time is null.
func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// compileName compiles a name filter (400/21 on a bad expression).
func compileName(expr string) (*regexp.Regexp, *apiError) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, errf(400, 21, "Malformed regular expression specified in the query (%v)", err)
	}
	return re, nil
}

// tagsMatch applies a tags filter: all-of by default (see the package
// doc), any-of when want contains "__$any", "-tag" excludes.
func tagsMatch(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	set := map[string]bool{}
	for _, t := range have {
		set[t] = true
	}
	anyMode := false
	var pos []string
	for _, w := range want {
		switch {
		case w == "__$any":
			anyMode = true
		case w == "__$all" || w == "__$and" || w == "__$or":
			if w == "__$or" {
				anyMode = true
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			if set[w[1:]] {
				return false
			}
		default:
			pos = append(pos, w)
		}
	}
	if len(pos) == 0 {
		return true
	}
	if anyMode {
		for _, w := range pos {
			if set[w] {
				return true
			}
		}
		return false
	}
	for _, w := range pos {
		if !set[w] {
			return false
		}
	}
	return true
}

func inList(v string, list []string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// onlyFields keeps the requested top-level fields (plus id) of obj.
func onlyFields(obj map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return obj
	}
	out := map[string]any{"id": obj["id"]}
	for _, f := range fields {
		top, _, _ := strings.Cut(f, ".")
		if v, ok := obj[top]; ok {
			out[top] = v
		}
	}
	return out
}

// paginate applies page/page_size (page is 0-based, as in the server).
func paginate[T any](items []T, body map[string]any) []T {
	if !has(body, "page_size") {
		return items
	}
	size := int(gInt(body, "page_size", 0))
	page := int(gInt(body, "page", 0))
	if size <= 0 || page < 0 {
		return items[:0]
	}
	start := page * size
	if start >= len(items) {
		return items[:0]
	}
	end := min(start+size, len(items))
	return items[start:end]
}

func strsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
