package comet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	t.Setenv("COMET_WORKSPACE", "env-ws")
	t.Setenv("COMET_API_KEY", "ENVKEY")
	c, _ = LoadConfig(Config{Workspace: "flag-ws"})
	if c.Workspace != "flag-ws" || c.APIKey != "ENVKEY" || c.Project != "file-proj" {
		t.Errorf("precedence: %+v", c)
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
