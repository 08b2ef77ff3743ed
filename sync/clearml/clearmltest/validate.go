package clearmltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// kind is the JSON type a schema field accepts.
type kind int

const (
	kString kind = iota + 1
	kBool
	kInt
	kNumber
	kObject // strict when fields != nil, any object otherwise
	kArray  // elements validated by elem
	kMap    // object whose values are validated by elem
	kAny
)

// field describes one request field. A schema is strict: fields not listed
// are rejected, as with additionalProperties: false in the server schema.
type field struct {
	kind     kind
	required bool
	enum     []string
	minLen   int
	elem     *field
	fields   schema
}

type schema map[string]*field

func fStr() *field                { return &field{kind: kString} }
func fBool() *field               { return &field{kind: kBool} }
func fInt() *field                { return &field{kind: kInt} }
func fNum() *field                { return &field{kind: kNumber} }
func fAnyObj() *field             { return &field{kind: kObject} }
func fObj(s schema) *field        { return &field{kind: kObject, fields: s} }
func fArr(e *field) *field        { return &field{kind: kArray, elem: e} }
func fMap(e *field) *field        { return &field{kind: kMap, elem: e} }
func fStrs() *field               { return fArr(fStr()) }
func fEnum(v ...string) *field    { return &field{kind: kString, enum: v} }
func (f *field) req() *field      { c := *f; c.required = true; return &c }
func (f *field) min(n int) *field { c := *f; c.minLen = n; return &c }

// apiError is an error answer: HTTP status = code.
type apiError struct {
	code, subcode int
	msg           string
	data          map[string]any
}

func (e *apiError) Error() string { return fmt.Sprintf("%d/%d %s", e.code, e.subcode, e.msg) }

func validationErr(format string, a ...any) *apiError {
	return &apiError{code: 400, subcode: 12, msg: "Validation error (" + fmt.Sprintf(format, a...) + ")"}
}

func errf(code, sub int, format string, a ...any) *apiError {
	return &apiError{code: code, subcode: sub, msg: fmt.Sprintf(format, a...)}
}

// decodeJSON decodes one JSON value keeping numbers as json.Number.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// dropNulls removes null-valued keys from objects, recursively, as the
// server does before validating.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}

// mergeQuery merges query-string arguments into body, converting each to
// the kind its schema field expects (the server merges them the same way).
func mergeQuery(body map[string]any, q url.Values, s schema) {
	for k, vs := range q {
		if len(vs) == 0 {
			continue
		}
		f := s[k]
		if f == nil {
			body[k] = vs[0]
			continue
		}
		switch f.kind {
		case kInt, kNumber:
			body[k] = json.Number(vs[0])
			if _, err := strconv.ParseFloat(vs[0], 64); err != nil {
				body[k] = vs[0]
			}
		case kBool:
			switch strings.ToLower(vs[0]) {
			case "true", "1":
				body[k] = true
			case "false", "0":
				body[k] = false
			default:
				body[k] = vs[0]
			}
		case kArray:
			var a []any
			for _, v := range vs {
				for _, p := range strings.Split(v, ",") {
					a = append(a, p)
				}
			}
			body[k] = a
		default:
			body[k] = vs[0]
		}
	}
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int64, int:
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

// validateObject checks obj against s: unknown fields, required fields,
// types, enums and minimum string lengths.
func validateObject(path string, obj map[string]any, s schema) *apiError {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := s[k]; !ok {
			if path != "" {
				return validationErr("error for field '%s'. Additional properties are not allowed ('%s' was unexpected)", path, k)
			}
			return validationErr("Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		f := s[k]
		v, ok := obj[k]
		p := k
		if path != "" {
			p = path + "." + k
		}
		if !ok {
			if f.required {
				return validationErr("error for field '%s'. field is required!", p)
			}
			continue
		}
		if err := validateValue(p, v, f); err != nil {
			return err
		}
	}
	return nil
}

func validateValue(p string, v any, f *field) *apiError {
	typeErr := func(want string) *apiError {
		return validationErr("error for field '%s'. expected %s, got %s", p, want, jsonTypeName(v))
	}
	switch f.kind {
	case kAny:
		return nil
	case kString:
		s, ok := v.(string)
		if !ok {
			return typeErr("string")
		}
		if f.minLen > 0 && len([]rune(s)) < f.minLen {
			return validationErr("error for field '%s'. String value is too short (min length %d)", p, f.minLen)
		}
		if len(f.enum) > 0 {
			for _, e := range f.enum {
				if s == e {
					return nil
				}
			}
			return validationErr("error for field '%s'. '%s' is not one of ['%s']", p, s, strings.Join(f.enum, "', '"))
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return typeErr("boolean")
		}
	case kNumber:
		if _, ok := toFloat(v); !ok {
			return typeErr("number")
		}
	case kInt:
		if _, ok := toInt(v); !ok {
			return typeErr("integer")
		}
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			return typeErr("object")
		}
		if f.fields != nil {
			return validateObject(p, m, f.fields)
		}
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return typeErr("object")
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := validateValue(p+"."+k, m[k], f.elem); err != nil {
				return err
			}
		}
	case kArray:
		a, ok := v.([]any)
		if !ok {
			return typeErr("array")
		}
		for i, e := range a {
			if err := validateValue(fmt.Sprintf("%s[%d]", p, i), e, f.elem); err != nil {
				return err
			}
		}
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		f, err := x.Float64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return 0, false
		}
		return int64(f), true
	case float64:
		if x != math.Trunc(x) {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

// Accessors for validated bodies.

func gStr(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func gBool(m map[string]any, k string) bool {
	b, _ := m[k].(bool)
	return b
}

func gInt(m map[string]any, k string, def int64) int64 {
	if v, ok := m[k]; ok {
		if i, ok := toInt(v); ok {
			return i
		}
	}
	return def
}

func gStrs(m map[string]any, k string) []string {
	a, ok := m[k].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, e := range a {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func gObj(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

func has(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// plain converts json.Number values to int64 or float64, recursively, so
// stored maps hold ordinary Go values.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = plain(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = plain(e)
		}
		return c
	}
	return v
}

func plainMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return plain(m).(map[string]any)
}
