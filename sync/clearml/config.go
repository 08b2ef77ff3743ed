package clearml

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/hocon"
)

// Config says which ClearML server to sync to and with which credentials,
// read as the ClearML SDK reads it: flags over CLEARML_* variables over
// the configuration file (CLEARML_CONFIG_FILE, else ~/clearml.conf).
type Config struct {
	// APIHost is the API server, e.g. http://clearml:8008.
	APIHost string
	// WebHost is the web UI, for links; derived from APIHost when empty.
	WebHost string
	// FilesHost is the file server; derived from WebHost when empty.
	FilesHost string
	// AccessKey and SecretKey are the API credentials. They never appear
	// in String, errors, logs or reports.
	AccessKey, SecretKey string
	// Insecure turns TLS certificate verification off
	// (api.verify_certificate: false).
	Insecure bool
	// File is the configuration file that was read, if any.
	File string
	// KeySource says where the credentials came from ("the variables
	// CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY", "api.credentials
	// in /home/me/clearml.conf"), for messages that say what to fix.
	KeySource string
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	key := "(none)"
	if c.AccessKey != "" {
		key = "(set)"
	}
	return fmt.Sprintf("api %s, web %s, files %s, access key %s", c.APIHost, c.WebHost, c.FilesHost, key)
}

// LoadConfig resolves the configuration: non-empty fields of flags win,
// then the CLEARML_API_HOST, CLEARML_WEB_HOST, CLEARML_FILES_HOST,
// CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY variables, then the
// file named by CLEARML_CONFIG_FILE or ~/clearml.conf (HOCON). Missing web
// and file server addresses are derived from the API address the way the
// SDK derives them.
func LoadConfig(flags Config) (Config, error) {
	c := Config{}
	file := os.Getenv("CLEARML_CONFIG_FILE")
	explicit := file != ""
	if file == "" {
		if home, err := os.UserHomeDir(); err == nil {
			file = filepath.Join(home, "clearml.conf")
		}
	}
	if file != "" {
		fc, err := readConfigFile(file)
		switch {
		case err == nil:
			c = fc
		case errors.Is(err, os.ErrNotExist) && !explicit:
		default:
			return Config{}, err
		}
	}
	env := Config{
		APIHost:   os.Getenv("CLEARML_API_HOST"),
		WebHost:   os.Getenv("CLEARML_WEB_HOST"),
		FilesHost: os.Getenv("CLEARML_FILES_HOST"),
		AccessKey: os.Getenv("CLEARML_API_ACCESS_KEY"),
		SecretKey: os.Getenv("CLEARML_API_SECRET_KEY"),
	}
	if v := os.Getenv("CLEARML_API_HOST_VERIFY_CERT"); v != "" {
		if b, err := strconv.ParseBool(v); err == nil {
			env.Insecure = !b
		}
	}
	c = overlay(overlay(c, env), flags)
	c.KeySource = keySource(c, env)
	if c.APIHost == "" {
		return c, errors.New("no ClearML server configured: set CLEARML_API_HOST, pass --clearml-api-host, or run `clearml-init` to write ~/clearml.conf")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return c, fmt.Errorf("no ClearML credentials for %s: set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY, or api.credentials in clearml.conf", c.APIHost)
	}
	for _, h := range []*string{&c.APIHost, &c.WebHost, &c.FilesHost} {
		*h = strings.TrimRight(*h, "/")
	}
	if c.WebHost == "" {
		c.WebHost = webFromAPI(c.APIHost)
	}
	if c.FilesHost == "" {
		c.FilesHost = filesFromWeb(c.WebHost)
	}
	for _, h := range []string{c.APIHost, c.WebHost, c.FilesHost} {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("ClearML address %q is not an http(s) URL: fix CLEARML_API_HOST / --clearml-api-host (or the web/files host)", h)
		}
	}
	return c, nil
}

// keySource names where the credentials of c came from.
func keySource(c, env Config) string {
	switch {
	case env.AccessKey != "" && env.SecretKey != "":
		return "the variables CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY"
	case env.AccessKey == "" && env.SecretKey == "" && c.File != "":
		return "api.credentials in " + c.File
	case c.File != "":
		return "CLEARML_API_ACCESS_KEY / CLEARML_API_SECRET_KEY and api.credentials in " + c.File
	}
	return "CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY"
}

func overlay(base, top Config) Config {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&base.APIHost, top.APIHost)
	set(&base.WebHost, top.WebHost)
	set(&base.FilesHost, top.FilesHost)
	set(&base.AccessKey, top.AccessKey)
	set(&base.SecretKey, top.SecretKey)
	set(&base.File, top.File)
	base.Insecure = base.Insecure || top.Insecure
	return base
}

// errParserPanic marks a panic of the HOCON parser, which readConfigFile
// turns into an error; FuzzReadConfigFile fails on it.
var errParserPanic = errors.New("the HOCON parser failed")

// stall is called before a clearml.conf is parsed. It does nothing, except
// in binaries built with the yoloarchive_testhooks tag, where it can spin
// forever as the HOCON parser once did, for the interrupt tests.
var stall = func() {}

// readConfigFile reads the api section of a clearml.conf (HOCON).
func readConfigFile(path string) (Config, error) {
	data, err := ysync.ReadConfigFile(path, "clearml.conf")
	if err != nil {
		return Config{}, err
	}
	return parseConfig(path, string(data))
}

// parseConfig parses the text of the clearml.conf at path.
func parseConfig(path, text string) (c Config, err error) {
	defer func() {
		if p := recover(); p != nil {
			c, err = Config{}, fmt.Errorf("%s: not a valid clearml.conf (%w): fix or remove it", path, errParserPanic)
		}
	}()
	stall()
	conf, err := hocon.ParseString(quoteURLs(text))
	if err != nil {
		return Config{}, parseErr(path, err)
	}
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := conf.Get(k); v != nil {
				s := strings.Trim(v.String(), `"`)
				if s != "" {
					return s
				}
			}
		}
		return ""
	}
	c = Config{
		APIHost:   get("api.api_server", "api.host"),
		WebHost:   get("api.web_server"),
		FilesHost: get("api.files_server"),
		AccessKey: get("api.credentials.access_key"),
		SecretKey: get("api.credentials.secret_key"),
		File:      path,
	}
	if v := get("api.verify_certificate"); v != "" {
		if b, err := strconv.ParseBool(v); err == nil {
			c.Insecure = !b
		}
	}
	return c, nil
}

// unquotedURL matches a value that is an unquoted URL. clearml-init writes
// them so (web_server: https://app.clear.ml) and pyhocon accepts them, but
// in strict HOCON "//" starts a comment.
var unquotedURL = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^(\s*[\w."-]+\s*[:=]\s*)([A-Za-z][A-Za-z0-9+.-]*://[^\s,}"#]*)[ \t]*$`)
})

// quoteURLs quotes unquoted URL values; lines stay where they are, so
// that parse errors name the right line.
func quoteURLs(s string) string {
	return unquotedURL().ReplaceAllString(s, `$1"$2"`)
}

var parsePos = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`at: (\d+):(\d+)`) })

// parseErr describes a HOCON error as one line: the file and line, the
// kind of error and its column, and what to do. The parser's own message
// is not repeated past its kind: it quotes the offending text, which may
// be a secret.
func parseErr(path string, err error) error {
	msg := err.Error()
	kind, _, _ := strings.Cut(msg, "!")
	kind, _, _ = strings.Cut(kind, " at: ")
	kind, _, _ = strings.Cut(kind, "\n")
	if len(kind) > 60 || strings.ContainsAny(kind, `'"${}`) {
		kind = "syntax error"
	}
	where := path
	if m := parsePos().FindStringSubmatch(msg); m != nil && m[1] != "0" {
		where += ":" + m[1]
		kind += " at column " + m[2]
	}
	return fmt.Errorf("%s: not a valid clearml.conf (%s): fix the file or remove it", where, kind)
}

// webFromAPI derives the web UI address from the API address as the SDK
// does: api.<domain> becomes app.<domain>, port 8008 becomes 8080.
func webFromAPI(api string) string {
	u, err := url.Parse(api)
	if err != nil {
		return api
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasPrefix(host, "api.") {
		host = "app." + strings.TrimPrefix(host, "api.")
	}
	if port == "8008" {
		port = "8080"
	}
	u.Host = joinHostPort(host, port)
	u.Path = ""
	return u.String()
}

// filesFromWeb derives the file server address from the web address as
// the SDK does: app.<domain> becomes files.<domain>; port 8081.
func filesFromWeb(web string) string {
	u, err := url.Parse(web)
	if err != nil {
		return web
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasPrefix(host, "app.") {
		host = "files." + strings.TrimPrefix(host, "app.")
	} else {
		port = "8081"
	}
	u.Host = joinHostPort(host, port)
	u.Path = ""
	return u.String()
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}
