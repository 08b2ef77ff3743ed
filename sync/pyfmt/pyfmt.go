// Package pyfmt writes values as Python prints them, for the trackers
// whose SDKs store Python's str() or repr() of what a callback logged.
// It uses the standard library and schemas (which imports nothing else)
// only, so that format packages that must import little of the project
// (sync/mlflow/filestore) and capture (convert) share it.
package pyfmt

import (
	"math"
	"strconv"
	"strings"
)

// Float is Python's repr() (and str()) of a float: the shortest
// round-tripping digits, fixed notation for exponents -4 to 15 (always
// with a decimal point), scientific otherwise ("1e-05", "1e+16").
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// StrRepr is Python's repr() of a str: single quotes unless the text
// holds a single quote and no double quote.
func StrRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
