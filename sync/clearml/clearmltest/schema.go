package clearmltest

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemaFiles are the ClearML SDK's own request and response schemas of
// the endpoints the fake serves (schemas/README.md).
//
//go:embed schemas
var schemaFiles embed.FS

// schemaVersions are the API versions with schema files, oldest first.
var schemaVersions = []string{"2.9", "2.13", "2.20", "2.23"}

// serverReads are request fields that the SDK schemas do not name but the
// server's code reads anyway (clearml-api.md §2.2: tasks.create stores its
// create_fields, which include runtime, error and input).
var serverReads = map[string]map[string]any{
	"tasks.create": {
		"runtime": map[string]any{"type": "object", "additionalProperties": true},
		"error":   map[string]any{"type": "string"},
		"input":   map[string]any{"type": "object"},
	},
}

type schemaKey struct {
	version, endpoint string
	response          bool
}

// schemaPair is an endpoint's schema as the SDK ships it (loose) and as
// the fake enforces it (strict: no unnamed fields). Validating with the
// loose one first tells a wrong field apart from an unknown one.
type schemaPair struct {
	loose, strict *jsonschema.Schema
}

// compiledSchemas caches compiled schemas for every Server (they never
// change).
var compiledSchemas = struct {
	sync.Mutex
	m map[schemaKey]*schemaPair
}{m: map[schemaKey]*schemaPair{}}

// schemaVersion returns the newest schema version not above v that has a
// file for endpoint, or "" when there is none.
func schemaVersion(endpoint, v string) string {
	for i := len(schemaVersions) - 1; i >= 0; i-- {
		sv := schemaVersions[i]
		if verLess(v, sv) {
			continue
		}
		if _, err := fs.Stat(schemaFiles, "schemas/"+sv+"/"+endpoint+".json"); err == nil {
			return sv
		}
	}
	return ""
}

// schemaFor returns the compiled request or response schemas of endpoint
// at schema version sv (nil when the file has none, as for a batch
// request, whose lines follow the schema of another endpoint).
func schemaFor(sv, endpoint string, response bool) (*schemaPair, error) {
	key := schemaKey{sv, endpoint, response}
	compiledSchemas.Lock()
	defer compiledSchemas.Unlock()
	if p, ok := compiledSchemas.m[key]; ok {
		return p, nil
	}
	part := "request"
	if response {
		part = "response"
	}
	var pair schemaPair
	for _, strict := range []bool{false, true} {
		s, err := compileSchema(sv, endpoint, part, strict)
		if err != nil || s == nil {
			compiledSchemas.m[key] = nil
			return nil, err
		}
		if strict {
			pair.strict = s
		} else {
			pair.loose = s
		}
	}
	compiledSchemas.m[key] = &pair
	return &pair, nil
}

func compileSchema(sv, endpoint, part string, strict bool) (*jsonschema.Schema, error) {
	raw, err := schemaFiles.ReadFile("schemas/" + sv + "/" + endpoint + ".json")
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s/%s.json: %v", sv, endpoint, err)
	}
	sch, _ := doc.(map[string]any)[part].(map[string]any)
	if sch == nil {
		return nil, nil
	}
	if extra := serverReads[endpoint]; extra != nil && part == "request" {
		props, _ := sch["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			sch["properties"] = props
		}
		for k, v := range extra {
			props[k] = v
		}
	}
	if strict {
		tighten(sch, true)
	}
	url := fmt.Sprintf("mem:///%s/%s/%s-%t.json", sv, endpoint, part, strict)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, sch); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("%s/%s.json %s: %v", sv, endpoint, part, err)
	}
	return s, nil
}

// check validates v: an error of the SDK's schema first (wrong type,
// missing field, bad value), then a field the strict schema does not
// allow. The answer is one line, "" when v is valid.
func (p *schemaPair) check(v any) string {
	err := p.strict.Validate(v)
	if err == nil {
		return "" // the strict schema only adds constraints
	}
	if lerr := p.loose.Validate(v); lerr != nil {
		return problem(lerr, false)
	}
	return problem(err, true)
}

// tighten makes a schema strict: an object may only hold the fields its
// schema names. The SDK schemas rarely say additionalProperties: false
// (the real server drops most unknown fields silently, so a client relying
// on one loses data without an error); the fake refuses them instead.
//
// Every place where an object's fields are described (properties, $ref,
// anyOf/oneOf/allOf) gets unevaluatedProperties: false, which also counts
// the fields named by the branch that matched, except the branches
// themselves (their parent is strict) and definitions (strict where they
// are used). Explicit additionalProperties (maps, free objects) stay.
func tighten(n any, useSite bool) {
	m, ok := n.(map[string]any)
	if !ok {
		return
	}
	for k, v := range m {
		switch k {
		case "properties", "patternProperties":
			for _, s := range asMap(v) {
				tighten(s, true)
			}
		case "definitions", "$defs":
			for _, s := range asMap(v) {
				tighten(s, false)
			}
		case "additionalProperties", "items", "additionalItems", "not", "contains", "if", "then", "else":
			if list, ok := v.([]any); ok {
				for _, s := range list {
					tighten(s, true)
				}
			} else {
				tighten(v, true)
			}
		case "anyOf", "oneOf", "allOf":
			list, _ := v.([]any)
			for _, s := range list {
				tighten(s, false)
			}
		}
	}
	if !useSite || has(m, "additionalProperties") || has(m, "unevaluatedProperties") {
		return
	}
	for _, k := range []string{"properties", "$ref", "anyOf", "oneOf", "allOf"} {
		if has(m, k) {
			m["unevaluatedProperties"] = false
			return
		}
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// problem renders a validation error as one line: the deepest unknown
// field (strict), or the deepest other error, preferring any error to a
// const mismatch (the anyOf branches of events other than the sent type).
func problem(err error, strict bool) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	if strict {
		var unknown []string
		for _, e := range leaves {
			switch k := e.ErrorKind.(type) {
			case *kind.FalseSchema:
				unknown = append(unknown, strings.Join(e.InstanceLocation, "."))
			case *kind.AdditionalProperties:
				for _, p := range k.Properties {
					unknown = append(unknown, strings.Join(append(append([]string{}, e.InstanceLocation...), p), "."))
				}
			}
		}
		if len(unknown) > 0 {
			// A field with an unknown field inside is itself flagged:
			// name the innermost.
			sort.Slice(unknown, func(i, j int) bool {
				if a, b := strings.Count(unknown[i], "."), strings.Count(unknown[j], "."); a != b {
					return a > b
				}
				return unknown[i] < unknown[j]
			})
			return fmt.Sprintf("field '%s' is not in the schema; the real server would drop it", unknown[0])
		}
	}
	var best *jsonschema.ValidationError
	for _, e := range leaves {
		_, isConst := e.ErrorKind.(*kind.Const)
		bestConst := false
		if best != nil {
			_, bestConst = best.ErrorKind.(*kind.Const)
		}
		if best == nil || (bestConst && !isConst) ||
			(bestConst == isConst && len(e.InstanceLocation) > len(best.InstanceLocation)) {
			best = e
		}
	}
	// The last line of a leaf's text is "- at '/path': message".
	msg := strings.TrimSpace(best.Error())
	msg = msg[strings.LastIndex(msg, "\n")+1:]
	if i := strings.Index(msg, "': "); i >= 0 {
		msg = msg[i+3:]
	}
	if f := strings.Join(best.InstanceLocation, "."); f != "" {
		return fmt.Sprintf("error for field '%s'. %s", f, msg)
	}
	return msg
}

// validateRequest checks a request body (or one line of a batch) against
// the request schema of endpoint at schema version sv: 400/12 on a
// mismatch, as the real server answers.
func validateRequest(sv, endpoint string, body any) *apiError {
	p, err := schemaFor(sv, endpoint, false)
	if err != nil {
		return errf(500, 0, "clearmltest: request schema of %s %s: %v", endpoint, sv, err)
	}
	if p == nil {
		return nil
	}
	if msg := p.check(body); msg != "" {
		return validationErr("%s", msg)
	}
	return nil
}

// validateResponse checks the fake's own answer (data, as JSON) against
// the response schema: the fake must not answer what the real server
// would not. A mismatch is a bug in the fake, answered as 500 so that the
// test fails.
func validateResponse(sv, endpoint string, b []byte) *apiError {
	p, err := schemaFor(sv, endpoint, true)
	if err != nil {
		return errf(500, 0, "clearmltest: response schema of %s %s: %v", endpoint, sv, err)
	}
	if p == nil {
		return nil
	}
	v, err := decodeJSON(b)
	if err != nil {
		return errf(500, 0, "clearmltest: decoding the answer to %s: %v", endpoint, err)
	}
	if msg := p.check(v); msg != "" {
		return errf(500, 0, "clearmltest: the fake's answer to %s does not match the API %s response schema (%s)", endpoint, sv, msg)
	}
	return nil
}
