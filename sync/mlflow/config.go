package mlflow

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Config is where and as whom a replay reaches an MLflow tracking server:
// the variables MLflow's Python client reads (environment_variables.py,
// utils/rest_utils.py).
type Config struct {
	// TrackingURI is MLFLOW_TRACKING_URI: the server's http(s) address.
	TrackingURI string
	// Username and Password are MLFLOW_TRACKING_USERNAME and
	// MLFLOW_TRACKING_PASSWORD (HTTP basic auth); Token is
	// MLFLOW_TRACKING_TOKEN (a bearer token). As in the client, basic auth
	// wins when both are set.
	Username, Password string
	Token              string
	// Insecure is MLFLOW_TRACKING_INSECURE_TLS: no TLS certificate checks.
	Insecure bool
	// Experiment is MLFLOW_EXPERIMENT_NAME and RunName MLFLOW_RUN, which
	// the callback reads (see Options).
	Experiment, RunName string
}

// ConfigFromEnv reads the MLFLOW_* variables with getenv (os.Getenv). An
// unset, file or unsupported MLFLOW_TRACKING_URI is an error that says
// what to set instead.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TrackingURI: strings.TrimSpace(getenv("MLFLOW_TRACKING_URI")),
		Username:    getenv("MLFLOW_TRACKING_USERNAME"),
		Password:    getenv("MLFLOW_TRACKING_PASSWORD"),
		Token:       getenv("MLFLOW_TRACKING_TOKEN"),
		Experiment:  getenv("MLFLOW_EXPERIMENT_NAME"),
		RunName:     getenv("MLFLOW_RUN"),
	}
	// _BooleanEnvironmentVariable: "true"/"false"/"1"/"0", any case.
	switch v := strings.ToLower(strings.TrimSpace(getenv("MLFLOW_TRACKING_INSECURE_TLS"))); v {
	case "", "false", "0":
	case "true", "1":
		c.Insecure = true
	default:
		return c, fmt.Errorf("MLFLOW_TRACKING_INSECURE_TLS is %q: set it to true or false", v)
	}
	if c.TrackingURI == "" {
		return c, errors.New("no MLflow server: set MLFLOW_TRACKING_URI (e.g. http://mlflow:5000), or write a file store with --to mlflow-dir -o DIR")
	}
	u, err := url.Parse(c.TrackingURI)
	switch {
	case err != nil:
		return c, fmt.Errorf("MLFLOW_TRACKING_URI is not a URL (%v): set it to the server's address, e.g. http://mlflow:5000", redactErr(err, c.TrackingURI))
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return c, errors.New("MLFLOW_TRACKING_URI has no host: set it to the server's address, e.g. http://mlflow:5000")
		}
		if u.User != nil {
			// The client takes credentials from the variables only.
			return c, errors.New("MLFLOW_TRACKING_URI holds credentials: put them in MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead")
		}
	case c.TrackingURI == "databricks" || strings.HasPrefix(c.TrackingURI, "databricks-uc"):
		return c, fmt.Errorf("MLFLOW_TRACKING_URI %q is not supported: sync --to mlflow talks to an MLflow tracking server over http(s)", c.TrackingURI)
	case u.Scheme == "" || u.Scheme == "file":
		return c, fmt.Errorf("MLFLOW_TRACKING_URI %s is a file store, not a server: write it with --to mlflow-dir -o %s", u.Path, u.Path)
	default:
		return c, fmt.Errorf("MLFLOW_TRACKING_URI scheme %q is not supported: sync --to mlflow talks to an MLflow tracking server over http(s)", u.Scheme)
	}
	c.TrackingURI = strings.TrimRight(c.TrackingURI, "/")
	return c, nil
}

// redactErr keeps a URL parse error from repeating the URL (which may
// hold a password).
func redactErr(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return strings.ReplaceAll(err.Error(), raw, "…")
}

// base is the server address without path, query or user info.
func (c Config) base() string {
	u, err := url.Parse(c.TrackingURI)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return strings.TrimRight(u.String(), "/")
}

// authHint says which variables hold the credentials the server refused.
func (c Config) authHint() string {
	switch {
	case c.Username != "" && c.Password != "":
		return "check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
	case c.Token != "":
		return "check MLFLOW_TRACKING_TOKEN"
	}
	return "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
}
