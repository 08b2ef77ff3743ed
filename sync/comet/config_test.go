package comet

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{"COMET_API_KEY", "COMET_WORKSPACE", "COMET_PROJECT_NAME", "COMET_URL_OVERRIDE", "COMET_CONFIG"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	t.Chdir(t.TempDir())
}

func TestLoadConfig_Precedence(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), ".comet.config")
	os.WriteFile(path, []byte("[comet]\napi_key = FILEKEY0123\nworkspace = file-ws\nproject_name = file-proj\nurl_override = https://comet.example.com/clientlib/\n"), 0o600)
	t.Setenv("COMET_CONFIG", path)
	c, err := LoadConfig(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey != "FILEKEY0123" || c.Workspace != "file-ws" || c.Project != "file-proj" || c.RESTBase() != "https://comet.example.com/api/rest/v2/" {
		t.Errorf("from file: %+v %s", c, c.RESTBase())
	}
	if c.KeySource != "api_key in "+path {
		t.Errorf("key source %q", c.KeySource)
	}
	t.Setenv("COMET_WORKSPACE", "env-ws")
	t.Setenv("COMET_API_KEY", "ENVKEY")
	c, _ = LoadConfig(Config{Workspace: "flag-ws"})
	if c.Workspace != "flag-ws" || c.APIKey != "ENVKEY" || c.Project != "file-proj" {
		t.Errorf("precedence: %+v", c)
	}
	if c.KeySource != "COMET_API_KEY" {
		t.Errorf("key source %q", c.KeySource)
	}
	if c, _ := LoadConfig(Config{APIKey: "FLAGKEY", KeySource: "--comet-api-key-file /run/key"}); c.KeySource != "--comet-api-key-file /run/key" {
		t.Errorf("key source %q", c.KeySource)
	}
	if strings.Contains(c.String(), "ENVKEY") {
		t.Errorf("String leaks the key: %s", c)
	}
	// COMET_CONFIG may name a directory; ./.comet.config is found too.
	t.Setenv("COMET_CONFIG", filepath.Dir(path))
	if c, _ := LoadConfig(Config{}); c.Project != "file-proj" {
		t.Errorf("directory COMET_CONFIG: %+v", c)
	}
	t.Setenv("COMET_CONFIG", "")
	os.WriteFile(".comet.config", []byte("[comet]\nproject_name = local\n"), 0o600)
	if c, _ := LoadConfig(Config{}); c.Project != "local" {
		t.Errorf("./.comet.config: %+v", c)
	}
}

func TestLoadConfig_Errors(t *testing.T) {
	clearEnv(t)
	if _, err := LoadConfig(Config{}); err == nil || !strings.Contains(err.Error(), "COMET_API_KEY") {
		t.Errorf("no key: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.config")
	os.WriteFile(bad, []byte("[comet\napi_key = SECRETKEY\n"), 0o600)
	t.Setenv("COMET_CONFIG", bad)
	_, err := LoadConfig(Config{})
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "SECRETKEY") {
		t.Errorf("broken file: %v", err)
	}
	t.Setenv("COMET_CONFIG", "")
	t.Setenv("COMET_API_KEY", "K")
	t.Setenv("COMET_URL_OVERRIDE", "ftp://nope")
	if _, err := LoadConfig(Config{}); err == nil || !strings.Contains(err.Error(), "COMET_URL_OVERRIDE") {
		t.Errorf("bad URL: %v", err)
	}
	if Config.Root(Config{}) != "https://www.comet.com" {
		t.Errorf("default root %s", Config{}.Root())
	}
}

// TestReadINI_Hostile: whatever COMET_CONFIG names, reading it ends at
// once (5 s without an answer is a hang) with one line naming the file
// (and the line at fault) and what to do, without the key.
func TestReadINI_Hostile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo.config")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{write("section.config", "# mine\n[comet\napi_key = S3CR3T\n"), ":2: not a valid .comet.config (INI): fix the line or remove the file"},
		{write("delim.config", "[comet]\nworkspace = ws\napi_key S3CR3T\n"), ":3: not a valid .comet.config (INI)"},
		{write("big.config", strings.Repeat("; comment\n", 200000)), ": 2000000 bytes is too large for a .comet.config"},
		{fifo, ": the .comet.config is not a regular file"},
		{"/dev/zero", ": the .comet.config is not a regular file"},
	} {
		done := make(chan error, 1)
		go func() { _, err := readINI(tc.path); done <- err }()
		var err error
		select {
		case err = <-done:
		case <-time.After(5 * time.Second): // milliseconds, on a machine not shared by many
			t.Fatalf("%s: no answer after 5s", tc.path)
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.path+tc.want) || strings.Contains(err.Error(), "S3CR3T") {
			t.Errorf("%s: %v, want %s%s…", tc.path, err, tc.path, tc.want)
		}
	}
}
