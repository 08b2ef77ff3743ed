package hocon

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// parseWithin parses in a goroutine and fails the test if ParseString has
// not returned within 5 seconds (each case takes milliseconds; the margin
// is for a machine shared with many others). A parser that spins keeps
// its goroutine running: the test binary ends with the failure.
func parseWithin(t *testing.T, in string) (*Config, error) {
	t.Helper()
	type result struct {
		c   *Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ParseString(in)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("ParseString(%.40q) has not returned after 5s", in)
		return nil, nil
	}
}

// TestParseString_Ends: malformed input is an error, at once. Each of
// these spun forever (or, the first ones, allocated without bound) in
// upstream v1.2.20.
func TestParseString_Ends(t *testing.T) {
	for _, in := range []string{
		"[p ",         // an unquoted string at the end of an unclosed array
		"a = [p ",     // the same as a value
		"a = [1, p ",  // after other elements
		"a = ${b c",   // an unclosed substitution with more tokens
		"a = ${b.c d", // the same with a path
	} {
		if _, err := parseWithin(t, in); err == nil {
			t.Errorf("ParseString(%q): no error", in)
		}
	}
}

// TestParseString_Depth: nesting deeper than maxDepth is an error, not a
// stack of a million frames.
func TestParseString_Depth(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("[", 1<<20),
		"a = " + strings.Repeat("[", 1<<20),
		strings.Repeat("a {", 1<<18),
		"a = " + strings.Repeat("{b = ", 1<<18),
	} {
		_, err := parseWithin(t, in)
		if err == nil || !strings.Contains(err.Error(), "too deeply nested") {
			t.Errorf("ParseString(%.12q…): %v, want too deeply nested", in, err)
		}
	}
	deep := "a = " + strings.Repeat("{b = ", maxDepth-2) + "1" + strings.Repeat("}", maxDepth-2)
	if _, err := parseWithin(t, deep); err != nil {
		t.Errorf("%d levels: %v", maxDepth-1, err)
	}
}

// TestParseString_Include: an include names a regular file; a FIFO
// (which blocks reading until a writer comes) or a device is refused, and
// a file that includes itself ends at the depth limit.
func TestParseString_Include(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // ParseString resolves includes against the working directory
	if err := syscall.Mkfifo("fifo", 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseWithin(t, `include "fifo"`); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("include a FIFO: %v", err)
	}
	if err := os.WriteFile("self.conf", []byte(`include "self.conf"`+"\na = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseWithin(t, `include "self.conf"`); err == nil || !strings.Contains(err.Error(), "too deeply nested") {
		t.Errorf("self include: %v", err)
	}
	if err := os.WriteFile("other.conf", []byte("b = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := parseWithin(t, "include \"other.conf\"\na = 1\n"); err != nil || c.GetInt("b") != 2 {
		t.Errorf("include a file: %v", err)
	}
}

// TestParseString_Valid: the fixes keep well-formed input as it was.
func TestParseString_Valid(t *testing.T) {
	c, err := parseWithin(t, "api {\n  host: \"http://h:8008\"\n  credentials { access_key: K, \"secret_key\": S }\n  list = [a, b c, 1]\n  sub = ${api.host}\"/x\"\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"api.host":                   `"http://h:8008"`,
		"api.credentials.access_key": "K",
		"api.credentials.secret_key": "S",
		"api.list":                   `[a,b" "c,1]`,
		"api.sub":                    `"http://h:8008""""/x"`,
	} {
		if v := c.Get(path); v == nil || v.String() != want {
			t.Errorf("%s = %v, want %s", path, v, want)
		}
	}
}

// TestParseString_Expansion: substitutions that double a value at each of
// 40 levels ("billion laughs") expand to a terabyte: refused, instead of
// String() spinning until memory runs out.
func TestParseString_Expansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0 = \"ha\"\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "x%d = ${x%d}${x%d}\n", i, i-1, i-1)
	}
	b.WriteString("api.host = ${x40}\n")
	_, err := parseWithin(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "expand") {
		t.Errorf("40 doublings: %v, want an expansion error", err)
	}
	// Sharing that does not blow up is fine.
	c, err := parseWithin(t, "a = {x = 1}\nb = ${a}\nc = ${a}\nd = [${b}, ${c}]\n")
	if err != nil || c.Get("d").String() != "[{x:1},{x:1}]" {
		t.Errorf("shared values: %v, %v", c, err)
	}
}

// TestParseString_UndefinedOptional: an optional substitution that
// resolves to nothing leaves no nil value behind (which panicked in
// String and in object concatenation): a field it is the value of is not
// created, and in a concatenation or an array it is an empty string.
func TestParseString_UndefinedOptional(t *testing.T) {
	for in, want := range map[string]string{
		"a = ${?nope}\nb = 1": "{b:1}",
		"a { b = ${?nope} }":  "{a:{}}",
		"a = [1, ${?nope}]":   `{a:[1,""]}`,
		// No panic is all these ask for.
		"a = x${?nope}y":         "",
		"0{0=${?1}0}":            "",
		"a = {x = 1} ${?nope}":   "",
		"a = ${?nope} {x = 1}\n": "",
	} {
		c, err := parseWithin(t, in)
		if err == nil {
			if got := c.String(); want != "" && got != want {
				t.Errorf("%q: %s, want %s", in, got, want)
			}
		} else if want != "" {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// TestGet_ThroughNonObject: a path through a value that is not an object
// finds nothing; it panicked, in Get and in resolving a substitution
// ("0000api=00" then Get("api.api_server"), found by FuzzReadConfigFile).
func TestGet_ThroughNonObject(t *testing.T) {
	c, err := parseWithin(t, "api = 00\nb { c = x }")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"api.api_server", "b.c.d", "api.x.y"} {
		if v := c.Get(path); v != nil {
			t.Errorf("Get(%q) = %v, want nil", path, v)
		}
	}
	if _, err := parseWithin(t, "a = 1\nb = ${a.x}\n"); err == nil || !strings.Contains(err.Error(), "could not resolve") {
		t.Errorf("substitution through a number: %v", err)
	}
}
