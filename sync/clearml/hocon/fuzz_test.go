package hocon

import "testing"

// FuzzParseString: any input gives a Config or an error, never a panic,
// and returns (the fuzzer reports an input that hangs); so do Get and
// String on what it returns.
func FuzzParseString(f *testing.F) {
	f.Add("api {\n  api_server: \"http://h:8008\"\n  credentials { access_key: K, secret_key: S }\n}\n")
	f.Add("a = [1, 2, ${b}]\nb = x y z\nc += 3\nd = \"\"\"multi\nline\"\"\"\n")
	f.Add("a.b.c = 10 s\ninclude \"missing.conf\"\n# comment\n// comment\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseString(in)
		if err == nil {
			_ = c.String()
			for _, path := range []string{"a", "a.b", "api.api_server", "0.0"} {
				if v := c.Get(path); v != nil {
					_ = v.String()
				}
			}
		}
	})
}
