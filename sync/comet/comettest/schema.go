package comettest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The JSON Schema documents the fake validates with, written from
// comet-api.md (and, for message shapes, the SDK's offline schemas):
// request/ the JSON bodies, query/ the query parameters, response/ the
// fake's own answers where the spec gives their shape, asset/ the content
// of typed uploads; defs.json is shared.
//
//go:embed schemas
var schemaFiles embed.FS

// schemaBase is the URL the documents are known by ($id), so that their
// relative $refs resolve.
const schemaBase = "https://comettest.invalid/schemas/"

// Comet sdk_error_code values the fake answers with (comet-api.md §4.3).
const (
	CodeInvalidAPIKey      = 90212   // API key not registered
	CodeNoWriteAccess      = 90210   // no write access / experiment not found
	CodeNoProjectName      = 98219   // projectName missing
	CodeNoSuchWorkspace    = 90219   // workspace does not exist
	CodeProjectNameTooLong = 1341241 // projectName has 100 characters or more
	CodeUploadLimit        = 7000001 // upload limit reached (image; see uploadLimitCode)
)

// apiError is an error answer: HTTP status, message and sdk_error_code.
type apiError struct {
	status int
	msg    string
	sdk    int
	// invalid marks the refusal of a malformed request (one its schemas
	// refuse), as opposed to an answer about the server's state (an
	// unknown experiment, a workspace, a limit).
	invalid bool
}

func (e *apiError) Error() string { return fmt.Sprintf("%d/%d %s", e.status, e.sdk, e.msg) }

// badRequest refuses a malformed request.
func badRequest(sdk int, format string, a ...any) *apiError {
	return &apiError{status: 400, msg: fmt.Sprintf(format, a...), sdk: sdk, invalid: true}
}

// refused is a 400 about the server's state, to a well-formed request.
func refused(sdk int, format string, a ...any) *apiError {
	return &apiError{status: 400, msg: fmt.Sprintf(format, a...), sdk: sdk}
}

// errorRule is one documented error answer of a top-level field, given in
// its schema as "x-comet-errors": the sdk_error_code and message the
// server answers when the field fails one of the keywords.
type errorRule struct {
	Keywords []string `json:"keywords"`
	Code     int      `json:"sdk_error_code"`
	Msg      string   `json:"msg"`
}

// schemaSet is every compiled document, by path under schemas/.
type schemaSet struct {
	compiled map[string]*jsonschema.Schema
	rules    map[string]map[string][]errorRule // document → top-level property → rules
}

// loadSchemas compiles the embedded documents once.
var loadSchemas = sync.OnceValues(func() (*schemaSet, error) {
	c := jsonschema.NewCompiler()
	set := &schemaSet{compiled: map[string]*jsonschema.Schema{}, rules: map[string]map[string][]errorRule{}}
	var names []string
	err := fs.WalkDir(schemaFiles, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "schemas/")
		data, err := schemaFiles.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		var raw struct {
			Properties map[string]struct {
				Rules []errorRule `json:"x-comet-errors"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for prop, v := range raw.Properties {
			if len(v.Rules) > 0 {
				if set.rules[name] == nil {
					set.rules[name] = map[string][]errorRule{}
				}
				set.rules[name][prop] = v.Rules
			}
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		sch, err := c.Compile(schemaBase + name)
		if err != nil {
			return nil, fmt.Errorf("schemas/%s: %w", name, err)
		}
		set.compiled[name] = sch
	}
	return set, nil
})

// where says what a checked value is, for messages.
type where int

const (
	inBody  where = iota // a JSON body: "field"
	inQuery              // query parameters: "query parameter"
	inFile               // an uploaded file or form part
)

// check validates v against the document name. A failure is the
// documented answer of the field at fault (x-comet-errors), else a 400
// with sdk_error_code 0 naming the field.
func (s *schemaSet) check(name string, v any, w where) *apiError {
	sch := s.compiled[name]
	if sch == nil {
		return &apiError{status: 500, msg: "fake server: no schema " + name}
	}
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return badRequest(0, "Invalid request: %v", err)
	}
	leaf := firstLeaf(ve)
	loc, kw := leaf.InstanceLocation, leaf.ErrorKind.KeywordPath()
	var msg string
	switch k := leaf.ErrorKind.(type) {
	case *kind.Required:
		loc = append(slices.Clone(loc), k.Missing[0])
		msg = "Missing required " + noun(w) + " " + quoteName(loc, w)
	case *kind.AdditionalProperties:
		msg = "Unrecognized " + noun(w) + " " + quoteName(append(slices.Clone(loc), k.Properties[0]), w)
	default:
		text := leaf.ErrorKind.LocalizedString(printer)
		if len(loc) == 0 {
			msg = "Invalid " + noun(w) + ": " + text
		} else {
			msg = upper(noun(w)) + " " + quoteName(loc, w) + ": " + text
		}
	}
	if len(loc) == 1 && len(kw) > 0 {
		for _, r := range s.rules[name][loc[0]] {
			if slices.Contains(r.Keywords, kw[0]) {
				return badRequest(r.Code, "%s", r.Msg)
			}
		}
	}
	return badRequest(0, "%s", msg)
}

var printer = message.NewPrinter(language.English)

// firstLeaf returns the cause the message is about: of the innermost
// failures, the one at the first instance location (then keyword), so
// that answers do not depend on map order.
func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	var leaves []*jsonschema.ValidationError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(e)
	sort.SliceStable(leaves, func(i, j int) bool {
		a, b := strings.Join(leaves[i].InstanceLocation, "/"), strings.Join(leaves[j].InstanceLocation, "/")
		if a != b {
			return a < b
		}
		return strings.Join(leaves[i].ErrorKind.KeywordPath(), "/") < strings.Join(leaves[j].ErrorKind.KeywordPath(), "/")
	})
	return leaves[0]
}

func noun(w where) string {
	switch w {
	case inQuery:
		return "query parameter"
	case inFile:
		return "key"
	}
	return "field"
}

func upper(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// quoteName renders an instance location: "a.b[0]" quoted, or a bare
// query parameter name.
func quoteName(loc []string, w where) string {
	var b strings.Builder
	for i, p := range loc {
		switch {
		case isIndex(p):
			b.WriteString("[" + p + "]")
		case i > 0:
			b.WriteString("." + p)
		default:
			b.WriteString(p)
		}
	}
	if w == inQuery {
		return b.String()
	}
	return `"` + b.String() + `"`
}

func isIndex(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// checkAnswer validates an answer of the fake against the document
// name: the fake must give what the spec documents, all of it and no
// more.
func (s *schemaSet) checkAnswer(name string, out any) error {
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	v, err := decodeJSON(b)
	if err != nil {
		return err
	}
	sch := s.compiled[name]
	if sch == nil {
		return errors.New("no schema " + name)
	}
	if err := sch.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			leaf := firstLeaf(ve)
			return fmt.Errorf("at /%s: %s", strings.Join(leaf.InstanceLocation, "/"), leaf.ErrorKind.LocalizedString(printer))
		}
		return err
	}
	return nil
}

// queryObject turns query parameters into the JSON object their schema
// validates; a parameter given more than once is refused.
func queryObject(q url.Values) (map[string]any, *apiError) {
	out := make(map[string]any, len(q))
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, badRequest(0, "Query parameter %q given %d times", k, len(vs))
		}
		out[k] = vs[0]
	}
	return out, nil
}

// decodeJSON decodes exactly one JSON value, keeping numbers as
// json.Number.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// decodeObject decodes b as one JSON object.
func decodeObject(b []byte) (map[string]any, *apiError) {
	v, err := decodeJSON(b)
	if err != nil {
		return nil, badRequest(0, "Malformed JSON body: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest(0, "Request body must be a JSON object")
	}
	return m, nil
}

// optInt returns m[k] as an int pointer (nil when absent or null; the
// schemas made sure it is an integer).
func optInt(m map[string]any, k string) *int64 {
	n, ok := m[k].(json.Number)
	if !ok {
		return nil
	}
	i, err := n.Int64()
	if err != nil {
		// 1850.0 is an integer to JSON Schema too.
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return nil
		}
		i = int64(f)
	}
	return &i
}

// optStr returns m[k] as a string ("" when absent or null).
func optStr(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
