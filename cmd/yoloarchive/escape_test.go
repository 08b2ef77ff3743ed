package main

import (
	"encoding/json"
	"testing"
)

func TestEscapeControls(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"Plain", "run train3\tok\n", "run train3\tok\n"},
		{"ESC", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"BEL CR", "a\x07\rb", `a\x07\x0db`},
		{"DEL", "a\x7fb", `a\u007fb`},
		{"C1", "a\u009b31mb", `a\u009b31mb`},
		{"Bidi", "a\u202eb", `a\u202eb`},
		{"UTF8", "résumé 日本", "résumé 日本"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(escapeControls([]byte(tc.in))); got != tc.want {
				t.Errorf("escapeControls(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestEscapeControls_JSON: JSON written through the escaping writer
// decodes to the same values.
func TestEscapeControls_JSON(t *testing.T) {
	in := map[string]string{"name": "a\x1b[31m\u009b\x7f\u202e\u2066b"}
	b, _ := json.Marshal(in)
	var out map[string]string
	if err := json.Unmarshal(escapeControls(b), &out); err != nil {
		t.Fatal(err)
	}
	if out["name"] != in["name"] {
		t.Errorf("got %q, want %q", out["name"], in["name"])
	}
}
