package clearmltest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// endpoint is one API call: its minimum version, request schema and
// handler. Handlers run with s.mu held.
type endpoint struct {
	minVer string
	schema schema
	// batch endpoints take a json-lines body and validate it themselves.
	batch bool
	h     func(s *Server, c *call) (any, *apiError)
}

var endpoints map[string]*endpoint

// call is one API request being served.
type call struct {
	name   string
	ver    string
	body   map[string]any
	raw    []byte
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
	if data == nil {
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
	if name == "models.update_for_task" {
		if aerr := s.authenticate(r); aerr != nil {
			writeEnvelope(w, name, reqVer, "", aerr, nil)
			return
		}
		writeEnvelope(w, name, reqVer, "2.1", errf(301, 0, "Moved permanently (use tasks.add_or_update_model)"), nil)
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
	s.mu.Unlock()

	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeEnvelope(w, name, reqVer, ep.minVer, errf(400, 0, "Bad request (reading body: %v)", err), nil)
		return
	}
	c := &call{name: name, ver: reqVer, raw: raw, r: r, w: w, worker: r.Header.Get("X-ClearML-Worker")}
	if c.worker == "" {
		c.worker = r.Header.Get("X-Trains-Worker")
	}
	if !ep.batch {
		body := map[string]any{}
		if len(strings.TrimSpace(string(raw))) > 0 {
			v, err := decodeJSON(raw)
			if err != nil {
				writeEnvelope(w, name, reqVer, ep.minVer, validationErr("invalid JSON body: %v", err), nil)
				return
			}
			o, ok := v.(map[string]any)
			if !ok {
				writeEnvelope(w, name, reqVer, ep.minVer, validationErr("request body must be a JSON object, got %s", jsonTypeName(v)), nil)
				return
			}
			body = o
		}
		mergeQuery(body, r.URL.Query(), ep.schema)
		dropNulls(body)
		if verr := validateObject("", body, ep.schema); verr != nil {
			writeEnvelope(w, name, reqVer, ep.minVer, verr, nil)
			return
		}
		c.body = body
	}
	s.mu.Lock()
	data, aerr := ep.h(s, c)
	s.mu.Unlock()
	writeEnvelope(w, name, reqVer, ep.minVer, aerr, data)
}

// authenticate checks the Authorization header: Basic credentials or a
// live Bearer token (auth.login accepts either too).
func (s *Server) authenticate(r *http.Request) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return errf(401, 20, "Unauthorized (missing authentication)")
	}
	scheme, cred, _ := strings.Cut(h, " ")
	switch scheme {
	case "Basic":
		if !s.basicOK(cred) {
			return errf(401, 21, "Unauthorized (invalid user id or password)")
		}
		return nil
	case "Bearer":
		if !s.tokenOK(strings.TrimSpace(cred)) {
			return errf(401, 30, "Unauthorized (invalid token)")
		}
		return nil
	}
	return errf(401, 10, "Unauthorized (bad authentication type, expected Basic or Bearer)")
}

func (s *Server) basicOK(cred string) bool {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok {
		return false
	}
	s.mu.Lock()
	ak, sk := s.AccessKey, s.SecretKey
	s.mu.Unlock()
	u := subtle.ConstantTimeCompare([]byte(user), []byte(ak))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(sk))
	return u&p == 1
}

func (s *Server) tokenOK(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

var b64url = base64.RawURLEncoding

// issueToken makes a JWT-shaped token (HS256 over a random key) and
// records it. Callers hold s.mu.
func (s *Server) issueToken(lifetime time.Duration) string {
	now := s.now()
	exp := now.Add(lifetime)
	header := b64url.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(map[string]any{
		"env":            "test",
		"iat":            now.Unix(),
		"exp":            exp.Unix(),
		"api_version":    APIVersion,
		"server_version": ServerVersion,
		"server_build":   "test",
		"feature_set":    "basic",
		"jti":            newID(),
		"identity": map[string]any{
			"company": "d1bd92a3b039400cbafc60a7a5b1e52b", "company_name": "clearmltest",
			"user": "test-user", "user_name": "Test User", "role": "user",
		},
	})
	signing := header + "." + b64url.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.signKey)
	mac.Write([]byte(signing))
	tok := signing + "." + b64url.EncodeToString(mac.Sum(nil))
	s.tokens[tok] = exp
	return tok
}

func (s *Server) authLogin(c *call) (any, *apiError) {
	life := defaultExpiration
	if has(c.body, "expiration_sec") {
		sec := gInt(c.body, "expiration_sec", 0)
		if sec <= 0 {
			return nil, errf(400, 16, "Value of field is invalid (expiration_sec must be positive)")
		}
		if sec > maxExpirationSec {
			sec = maxExpirationSec
		}
		life = time.Duration(sec) * time.Second
	}
	tok := s.issueToken(life)
	http.SetCookie(c.w, &http.Cookie{Name: "clearml_token_basic", Value: tok, Path: "/", HttpOnly: true})
	return map[string]any{"token": tok}, nil
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
