package clearml

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{"CLEARML_API_HOST", "CLEARML_WEB_HOST", "CLEARML_FILES_HOST", "CLEARML_API_ACCESS_KEY",
		"CLEARML_API_SECRET_KEY", "CLEARML_CONFIG_FILE", "CLEARML_API_HOST_VERIFY_CERT"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
}

const sampleConf = `# written by clearml-init
api {
    web_server: https://app.example.com
    api_server: https://api.example.com
    files_server: https://files.example.com
    credentials {
        "access_key" = "FILEACCESSKEY"
        "secret_key"  = "filesecretkey0123456789"
    }
    verify_certificate: false
}
sdk {
    development { default_output_uri: "" }
}
`

func TestLoadConfig_FileEnvFlags(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "clearml.conf")
	os.WriteFile(path, []byte(sampleConf), 0o600)
	t.Setenv("CLEARML_CONFIG_FILE", path)
	c, err := LoadConfig(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.APIHost != "https://api.example.com" || c.WebHost != "https://app.example.com" || c.FilesHost != "https://files.example.com" ||
		c.AccessKey != "FILEACCESSKEY" || c.SecretKey != "filesecretkey0123456789" || !c.Insecure {
		t.Errorf("from file: %+v", c)
	}
	if c.KeySource != "api.credentials in "+path {
		t.Errorf("key source %q", c.KeySource)
	}
	// Variables override the file; flags override both.
	t.Setenv("CLEARML_API_HOST", "http://env-host:8008")
	t.Setenv("CLEARML_API_ACCESS_KEY", "ENVKEY")
	c, err = LoadConfig(Config{AccessKey: "FLAGKEY"})
	if err != nil {
		t.Fatal(err)
	}
	if c.APIHost != "http://env-host:8008" || c.AccessKey != "FLAGKEY" || c.SecretKey != "filesecretkey0123456789" {
		t.Errorf("precedence: %+v", c)
	}
	if want := "CLEARML_API_ACCESS_KEY / CLEARML_API_SECRET_KEY and api.credentials in " + path; c.KeySource != want {
		t.Errorf("key source %q, want %q", c.KeySource, want)
	}
	t.Setenv("CLEARML_API_SECRET_KEY", "envsecret")
	if c, _ = LoadConfig(Config{}); c.KeySource != "the variables CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY" {
		t.Errorf("key source %q", c.KeySource)
	}
	if s := c.String(); strings.Contains(s, "FLAGKEY") || strings.Contains(s, "filesecret") {
		t.Errorf("String leaks a secret: %s", s)
	}
}

func TestLoadConfig_DerivesHosts(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLEARML_API_ACCESS_KEY", "K")
	t.Setenv("CLEARML_API_SECRET_KEY", "S")
	for api, want := range map[string][2]string{
		"http://localhost:8008":        {"http://localhost:8080", "http://localhost:8081"},
		"https://api.clear.ml":         {"https://app.clear.ml", "https://files.clear.ml"},
		"http://10.0.0.5:8008/":        {"http://10.0.0.5:8080", "http://10.0.0.5:8081"},
		"https://api.corp.example:443": {"https://app.corp.example:443", "https://files.corp.example:443"},
	} {
		t.Setenv("CLEARML_API_HOST", api)
		c, err := LoadConfig(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if c.WebHost != want[0] || c.FilesHost != want[1] {
			t.Errorf("%s: web %s files %s, want %v", api, c.WebHost, c.FilesHost, want)
		}
	}
}

func TestLoadConfig_Errors(t *testing.T) {
	clearEnv(t)
	if _, err := LoadConfig(Config{}); err == nil || !strings.Contains(err.Error(), "CLEARML_API_HOST") {
		t.Errorf("no host: %v", err)
	}
	t.Setenv("CLEARML_API_HOST", "http://h:8008")
	if _, err := LoadConfig(Config{}); err == nil || !strings.Contains(err.Error(), "CLEARML_API_ACCESS_KEY") {
		t.Errorf("no key: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "clearml.conf")
	os.WriteFile(bad, []byte("api { credentials { access_key = \"SECRETISH\" \n"), 0o600)
	t.Setenv("CLEARML_CONFIG_FILE", bad)
	_, err := LoadConfig(Config{})
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "SECRETISH") {
		t.Errorf("broken file: %v", err)
	}
	t.Setenv("CLEARML_CONFIG_FILE", filepath.Join(t.TempDir(), "missing.conf"))
	if _, err := LoadConfig(Config{}); err == nil || !strings.Contains(err.Error(), "missing.conf") {
		t.Errorf("missing explicit file: %v", err)
	}
}

// TestReadConfigFile_Hostile: whatever CLEARML_CONFIG_FILE names, reading
// it ends at once (5 s without an answer is a hang) with one line naming
// the file (and the line at fault) and what to do.
func TestReadConfigFile_Hostile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{write("bracket.conf", "[p "), ":1: not a valid clearml.conf (missing comma at column 4): fix the file or remove it"},
		{write("late.conf", sampleConf+"api { x = [1, p "), ":15: not a valid clearml.conf (missing comma at column 17)"},
		{write("subst.conf", "api {\n host = ${a b\n}\n"), ":4: not a valid clearml.conf (invalid config object at column 1)"},
		{write("deep.conf", strings.Repeat("[", 100000)), ":1: not a valid clearml.conf (too deeply nested at column 257)"},
		{write("big.conf", strings.Repeat("# comment\n", 200000)), ": 2000000 bytes is too large for a clearml.conf"},
		{fifo, ": the clearml.conf is not a regular file"},
		{dir, ": the clearml.conf is not a regular file"},
		{"/dev/zero", ": the clearml.conf is not a regular file"},
	} {
		done := make(chan error, 1)
		go func() { _, err := readConfigFile(tc.path); done <- err }()
		var err error
		select {
		case err = <-done:
		case <-time.After(5 * time.Second): // milliseconds, on a machine not shared by many
			t.Fatalf("%s: no answer after 5s", tc.path)
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.path+tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want %s%s…", tc.path, err, tc.path, tc.want)
		}
	}
}
