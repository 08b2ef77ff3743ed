package main

import (
	"fmt"
	"io"
	"strings"
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

// lineBreaks escapes the line breaks of a name shown in a human line.
var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// printf is fmt.Fprintf for the human lines every command prints: a
// string or error argument (a path, a run, file or metric name, a message
// quoting one) has its line breaks escaped as \n and \r, so that a name
// can never start a line of its own ("a\nsynced: 5 archives" is one
// line); the writer escapes the other controls. Only %s and %v are
// escaped: an argument printed with %q is Go-quoted already. --json lines go out unchanged: JSON escapes
// line breaks itself.
func printf(w io.Writer, format string, args ...any) {
	verbs := formatVerbs(format)
	for i, a := range args {
		if i >= len(verbs) || verbs[i] != 's' && verbs[i] != 'v' {
			continue // %q quotes; %d and others do not print text
		}
		switch v := a.(type) {
		case string:
			args[i] = lineBreaks.Replace(v)
		case error:
			args[i] = lineBreaks.Replace(v.Error())
		case fmt.Stringer:
			args[i] = lineBreaks.Replace(v.String())
		}
	}
	fmt.Fprintf(w, format, args...)
}

// printLine is fmt.Fprintln for human lines, escaping as printf does.
func printLine(w io.Writer, s string) { fmt.Fprintln(w, lineBreaks.Replace(s)) }

// formatVerbs returns the verb of each argument a format consumes, in
// order (flags, width and precision skipped; a '*' consumes an argument).
func formatVerbs(format string) []byte {
	var verbs []byte
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[i]) >= 0 {
			if format[i] == '*' {
				verbs = append(verbs, '*')
			}
			i++
		}
		if i < len(format) && format[i] != '%' {
			verbs = append(verbs, format[i])
		}
	}
	return verbs
}
