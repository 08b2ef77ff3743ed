package comettest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Comet sdk_error_code values the fake answers with.
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
}

func (e *apiError) Error() string { return fmt.Sprintf("%d/%d %s", e.status, e.sdk, e.msg) }

func badRequest(sdk int, format string, a ...any) *apiError {
	return &apiError{status: 400, msg: fmt.Sprintf(format, a...), sdk: sdk}
}

// jt is a set of JSON types a field accepts.
type jt int

const (
	tStr  jt = 1 << iota
	tNum     // any number
	tInt     // a number that is an integer literal fitting int64
	tBool    // true or false
	tNull    // null
	tStrs    // array of strings
)

// field describes one body field. A schema is strict: fields it does not
// list are rejected.
type field struct {
	types    jt
	required bool
	// missing is the sdk_error_code when a required field is absent.
	missing int
}

type schema map[string]field

func opt(t jt) field            { return field{types: t} }
func req(t jt) field            { return field{types: t, required: true} }
func reqCode(t jt, c int) field { return field{types: t, required: true, missing: c} }
func (t jt) has(o jt) bool      { return t&o != 0 }
func typeName(t jt) string      { return strings.Join(typeNames(t), " or ") }
func isInt(n json.Number) bool  { _, err := strconv.ParseInt(n.String(), 10, 64); return err == nil }
func asInt(v any) (int64, bool) { n, ok := v.(json.Number); return intOf(n, ok) }
func intOf(n json.Number, ok bool) (int64, bool) {
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	return i, err == nil
}

func typeNames(t jt) []string {
	var out []string
	for _, x := range []struct {
		t jt
		n string
	}{{tStr, "string"}, {tNum, "number"}, {tInt, "integer"}, {tBool, "boolean"}, {tNull, "null"}, {tStrs, "array of strings"}} {
		if t.has(x.t) {
			out = append(out, x.n)
		}
	}
	return out
}

func jsonTypeName(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if isInt(x) {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
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
		return nil, badRequest(0, "Request body must be a JSON object, got %s", jsonTypeName(v))
	}
	return m, nil
}

// validate checks body against s: unknown fields, required fields and
// types. A required field that is null counts as missing unless null is
// allowed.
func validate(body map[string]any, s schema) *apiError {
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := s[k]; !ok {
			return badRequest(0, "Unrecognized field \"%s\"", k)
		}
	}
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		f := s[k]
		v, ok := body[k]
		if !ok || (v == nil && !f.types.has(tNull)) {
			if f.required {
				return badRequest(f.missing, "Missing required field \"%s\"", k)
			}
			if !ok {
				continue
			}
		}
		if !typeOK(v, f.types) {
			return badRequest(0, "Field \"%s\": expected %s, got %s", k, typeName(f.types), jsonTypeName(v))
		}
	}
	return nil
}

func typeOK(v any, t jt) bool {
	switch x := v.(type) {
	case nil:
		return t.has(tNull)
	case string:
		return t.has(tStr)
	case bool:
		return t.has(tBool)
	case json.Number:
		return t.has(tNum) || (t.has(tInt) && isInt(x))
	case []any:
		if !t.has(tStrs) {
			return false
		}
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// optInt returns body[k] as an int pointer (nil when absent or null).
func optInt(body map[string]any, k string) *int64 {
	if i, ok := asInt(body[k]); ok {
		return &i
	}
	return nil
}

// optStr returns body[k] as a string ("" when absent or null).
func optStr(body map[string]any, k string) string {
	s, _ := body[k].(string)
	return s
}

func isNumber(v any) bool { _, ok := v.(json.Number); return ok }

// validateAnnotations checks image annotations per comet-api.md §6.2.
func validateAnnotations(v any) error {
	layers, ok := v.([]any)
	if !ok {
		return fmt.Errorf("annotations must be a list of layers, got %s", jsonTypeName(v))
	}
	for i, l := range layers {
		layer, ok := l.(map[string]any)
		if !ok {
			return fmt.Errorf("annotations[%d] must be an object", i)
		}
		if name, _ := layer["name"].(string); name == "" {
			return fmt.Errorf("annotations[%d].name must be a non-empty string", i)
		}
		data, ok := layer["data"].([]any)
		if !ok || len(data) == 0 {
			return fmt.Errorf("annotations[%d].data must be a non-empty list", i)
		}
		for j, d := range data {
			if err := validateAnnotation(d); err != nil {
				return fmt.Errorf("annotations[%d].data[%d]: %w", i, j, err)
			}
		}
	}
	return nil
}

func validateAnnotation(d any) error {
	item, ok := d.(map[string]any)
	if !ok {
		return errors.New("must be an object")
	}
	for k := range item {
		switch k {
		case "boxes", "points", "label", "score", "id", "metadata":
		default:
			return fmt.Errorf("unknown key %q", k)
		}
	}
	if _, ok := item["label"].(string); !ok {
		return errors.New("label must be a string")
	}
	boxes, hasBoxes := item["boxes"]
	points, hasPoints := item["points"]
	if !hasBoxes && !hasPoints {
		return errors.New("needs boxes or points")
	}
	if hasBoxes {
		list, ok := boxes.([]any)
		if !ok {
			return errors.New("boxes must be a list")
		}
		for k, b := range list {
			box, ok := b.([]any)
			if !ok || len(box) != 4 || !allNumbers(box) {
				return fmt.Errorf("boxes[%d] must be [x, y, width, height] numbers", k)
			}
		}
	}
	if hasPoints {
		list, ok := points.([]any)
		if !ok {
			return errors.New("points must be a list")
		}
		for k, p := range list {
			poly, ok := p.([]any)
			if !ok || len(poly) < 6 || len(poly)%2 != 0 || !allNumbers(poly) {
				return fmt.Errorf("points[%d] must be a flat list of at least 3 x, y number pairs", k)
			}
		}
	}
	if s, ok := item["score"]; ok && s != nil && !isNumber(s) {
		return errors.New("score must be a number or null")
	}
	if id, ok := item["id"]; ok && id != nil {
		if _, ok := id.(string); !ok {
			return errors.New("id must be a string")
		}
	}
	if m, ok := item["metadata"]; ok && m != nil {
		if _, ok := m.(map[string]any); !ok {
			return errors.New("metadata must be an object")
		}
	}
	return nil
}

func allNumbers(l []any) bool {
	for _, v := range l {
		if !isNumber(v) {
			return false
		}
	}
	return true
}

// validateConfusionMatrix checks a confusion-matrix asset per comet-api.md
// §6.1: a JSON object with version, title, labels and an n×n matrix of
// numbers where n = len(labels) ≥ 1. Unknown keys are rejected.
func validateConfusionMatrix(b []byte) error {
	v, err := decodeJSON(b)
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	cm, ok := v.(map[string]any)
	if !ok {
		return errors.New("not a JSON object")
	}
	for k := range cm {
		switch k {
		case "version", "title", "labels", "matrix", "rowLabel", "columnLabel",
			"maxSamplesPerCell", "sampleMatrix", "type":
		default:
			return fmt.Errorf("unknown key %q", k)
		}
	}
	if !isNumber(cm["version"]) {
		return errors.New("version must be a number")
	}
	if _, ok := cm["title"].(string); !ok {
		return errors.New("title must be a string")
	}
	labels, ok := cm["labels"].([]any)
	if !ok || len(labels) == 0 {
		return errors.New("labels must be a non-empty list")
	}
	for i, l := range labels {
		if _, ok := l.(string); !ok {
			return fmt.Errorf("labels[%d] must be a string", i)
		}
	}
	rows, ok := cm["matrix"].([]any)
	if !ok {
		return errors.New("matrix must be a list of lists")
	}
	if len(rows) != len(labels) {
		return fmt.Errorf("matrix has %d rows, labels has %d entries", len(rows), len(labels))
	}
	for i, r := range rows {
		row, ok := r.([]any)
		if !ok || len(row) != len(labels) || !allNumbers(row) {
			return fmt.Errorf("matrix row %d must be a list of %d numbers", i, len(labels))
		}
	}
	for _, k := range []string{"rowLabel", "columnLabel", "type"} {
		if x, ok := cm[k]; ok && x != nil {
			if _, ok := x.(string); !ok {
				return fmt.Errorf("%s must be a string", k)
			}
		}
	}
	if x, ok := cm["maxSamplesPerCell"]; ok && x != nil && !isNumber(x) {
		return errors.New("maxSamplesPerCell must be a number")
	}
	if x, ok := cm["sampleMatrix"]; ok && x != nil {
		sm, ok := x.([]any)
		if !ok || len(sm) != len(labels) {
			return errors.New("sampleMatrix must be null or an n×n list")
		}
	}
	return nil
}
