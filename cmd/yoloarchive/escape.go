package main

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// Write escapes control characters (see [escapeControls]) and writes to
// the underlying writer, which progress bars use directly.
func (s *Stdout) Write(p []byte) (int, error) { return escaped(s.Writer).Write(p) }

// Write escapes control characters (see [escapeControls]) and writes to
// the underlying writer, which progress bars use directly.
func (s *Stderr) Write(p []byte) (int, error) { return escaped(s.Writer).Write(p) }

// escWriter writes through escapeControls.
type escWriter struct{ w io.Writer }

// escaped returns w writing through escapeControls: a name from a run
// (a file name, a run name, a header field) never reaches a terminal as
// an escape sequence.
func escaped(w io.Writer) io.Writer {
	if e, ok := w.(escWriter); ok {
		return e
	}
	return escWriter{w}
}

func (e escWriter) Write(p []byte) (int, error) {
	q := escapeControls(p)
	if _, err := e.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// escapeControls escapes the characters that a terminal interprets
// rather than shows: C0 controls other than newline and tab as \xNN,
// DEL, C1 controls and the bidirectional overrides as \uNNNN. JSON
// output (--json) keeps its values: encoding/json already escapes C0,
// and \uNNNN is JSON's own escape of the others, which decodes to the
// same string. It returns p itself when there is nothing to escape.
func escapeControls(p []byte) []byte {
	i := 0
	for i < len(p) && (p[i] >= 0x20 && p[i] < 0x7f || p[i] == '\n' || p[i] == '\t') {
		i++
	}
	if i == len(p) {
		return p
	}
	out := append(make([]byte, 0, len(p)+16), p[:i]...)
	for i < len(p) {
		r, n := utf8.DecodeRune(p[i:])
		switch {
		case r == '\n' || r == '\t':
			out = append(out, byte(r))
		case r < 0x20:
			out = fmt.Appendf(out, `\x%02x`, r)
		case r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	return out
}
