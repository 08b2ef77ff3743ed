package comet

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/ini.v1"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// DefaultURL is the Comet cloud, as COMET_URL_OVERRIDE names it.
const DefaultURL = "https://www.comet.com/clientlib/"

// Config says which Comet server to sync to, read as the Comet SDK reads
// it: flags over COMET_* variables over the configuration file
// (COMET_CONFIG, else ./.comet.config, else ~/.comet.config).
type Config struct {
	// APIKey is the credential; it never appears in String, errors, logs
	// or reports.
	APIKey string
	// Workspace and Project are the defaults for new experiments.
	Workspace, Project string
	// URL is the COMET_URL_OVERRIDE form of the server
	// (https://comet.example.com/clientlib/); the REST API is under its
	// root.
	URL string
	// File is the configuration file that was read, if any.
	File string
	// KeySource says where the key came from ("COMET_API_KEY", "api_key
	// in /home/me/.comet.config", or, when flags carry the key, what
	// flags.KeySource says), for messages that say what to fix.
	KeySource string
}

// String describes the configuration without the key.
func (c Config) String() string {
	key := "(none)"
	if c.APIKey != "" {
		key = "(set)"
	}
	return fmt.Sprintf("server %s, workspace %q, project %q, API key %s", c.Root(), c.Workspace, c.Project, key)
}

// Root is the server's root URL (COMET_URL_OVERRIDE without /clientlib/).
func (c Config) Root() string {
	u := c.URL
	if u == "" {
		u = DefaultURL
	}
	u = strings.TrimRight(u, "/")
	u = strings.TrimSuffix(u, "/clientlib")
	return u
}

// RESTBase is the REST API v2 base URL.
func (c Config) RESTBase() string { return c.Root() + "/api/rest/v2/" }

// ClientlibBase is the base URL of the SDK's internal endpoints
// (COMET_URL_OVERRIDE: <root>/clientlib/), where `comet upload` sends its
// batches (comet-api.md §5.9).
func (c Config) ClientlibBase() string { return c.Root() + "/clientlib/" }

// endpointURL resolves an endpoint name: "clientlib/…" under
// ClientlibBase, anything else under RESTBase.
func (c Config) endpointURL(endpoint string) string {
	if rest, ok := strings.CutPrefix(endpoint, "clientlib/"); ok {
		return c.ClientlibBase() + rest
	}
	return c.RESTBase() + endpoint
}

// LoadConfig resolves the configuration: non-empty fields of flags win,
// then COMET_API_KEY, COMET_WORKSPACE, COMET_PROJECT_NAME and
// COMET_URL_OVERRIDE, then the [comet] section of the configuration file
// (INI).
func LoadConfig(flags Config) (Config, error) {
	var c Config
	file, err := configFile()
	if err != nil {
		return Config{}, err
	}
	if file != "" {
		if c, err = readINI(file); err != nil {
			return Config{}, err
		}
	}
	env := Config{APIKey: os.Getenv("COMET_API_KEY"), Workspace: os.Getenv("COMET_WORKSPACE"),
		Project: os.Getenv("COMET_PROJECT_NAME"), URL: os.Getenv("COMET_URL_OVERRIDE")}
	c = overlay(overlay(c, env), flags)
	switch {
	case flags.APIKey != "":
		c.KeySource = flags.KeySource
		if c.KeySource == "" {
			c.KeySource = "the command line"
		}
	case env.APIKey != "":
		c.KeySource = "COMET_API_KEY"
	case c.File != "":
		c.KeySource = "api_key in " + c.File
	}
	if c.APIKey == "" {
		return c, errors.New("no Comet API key: set COMET_API_KEY, pass --comet-api-key-file, or set api_key in the [comet] section of ~/.comet.config")
	}
	if u, err := url.Parse(c.Root()); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("Comet address %q is not an http(s) URL: fix COMET_URL_OVERRIDE / --comet-url", c.URL)
	}
	return c, nil
}

// configFile finds the INI file as the SDK does: COMET_CONFIG (a file or
// a directory holding .comet.config), ./.comet.config, ~/.comet.config.
func configFile() (string, error) {
	if p := os.Getenv("COMET_CONFIG"); p != "" {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("COMET_CONFIG names %s, which cannot be read (%v): fix or unset it", p, err)
		}
		if st.IsDir() {
			p = filepath.Join(p, ".comet.config")
		}
		return p, nil
	}
	candidates := []string{".comet.config"}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".comet.config"))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", nil
}

// readINI reads the [comet] section of a .comet.config (INI).
func readINI(path string) (Config, error) {
	data, err := ysync.ReadConfigFile(path, ".comet.config")
	if err != nil {
		return Config{}, err
	}
	f, err := ini.Load(data)
	if err != nil {
		return Config{}, iniErr(path, data, err)
	}
	s := f.Section("comet")
	return Config{APIKey: s.Key("api_key").String(), Workspace: s.Key("workspace").String(),
		Project: s.Key("project_name").String(), URL: s.Key("url_override").String(), File: path}, nil
}

// iniErr describes an INI error as one line: the file and line at fault
// and what to do. The parser's message quotes the line, which may hold
// the key: it is used only to find the line's number.
func iniErr(path string, data []byte, err error) error {
	var quoted string
	var dnf ini.ErrDelimiterNotFound
	switch msg := err.Error(); {
	case errors.As(err, &dnf):
		quoted = dnf.Line
	case strings.HasPrefix(msg, "unclosed section: "):
		quoted = strings.TrimPrefix(msg, "unclosed section: ")
	case strings.HasPrefix(msg, "missing closing key quote: "):
		quoted = strings.TrimPrefix(msg, "missing closing key quote: ")
	}
	where := path
	if quoted = strings.TrimSpace(quoted); quoted != "" {
		for i, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == quoted {
				where = fmt.Sprintf("%s:%d", path, i+1)
				break
			}
		}
	}
	return fmt.Errorf("%s: not a valid .comet.config (INI): fix the line or remove the file", where)
}

func overlay(base, top Config) Config {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&base.APIKey, top.APIKey)
	set(&base.Workspace, top.Workspace)
	set(&base.Project, top.Project)
	set(&base.URL, top.URL)
	set(&base.File, top.File)
	return base
}
