package clearmltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

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

// applyQuery merges query-string arguments into body as the server does
// (request_handlers.py _apply_multi_dict): digits become numbers,
// true/false booleans, a repeated key or one ending in "[]" a list, and a
// dotted key a nested field.
func applyQuery(body map[string]any, q url.Values) {
	convert := func(v string) any {
		if d := strings.Replace(v, ".", "", 1); d != "" && strings.Trim(d, "0123456789") == "" {
			if strings.Contains(v, ".") {
				f, _ := strconv.ParseFloat(v, 64)
				return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
			}
			return json.Number(v)
		}
		switch v {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
		return v
	}
	for k, vs := range q {
		if len(vs) == 0 {
			continue
		}
		var val any
		if len(vs) > 1 || strings.HasSuffix(k, "[]") {
			list := make([]any, len(vs))
			for i, v := range vs {
				list[i] = convert(v)
			}
			val = list
		} else {
			val = convert(vs[0])
		}
		path := strings.Split(strings.TrimRight(k, "[]"), ".")
		m := body
		for _, p := range path[:len(path)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[path[len(path)-1]] = val
	}
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
