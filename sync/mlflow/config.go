package mlflow

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
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
	// ServerCertPath is MLFLOW_TRACKING_SERVER_CERT_PATH: the PEM CA
	// bundle (a file, or a directory of them) that the server's
	// certificate is checked against, instead of the system's roots, as
	// requests' verify= does. ClientCertPath is
	// MLFLOW_TRACKING_CLIENT_CERT_PATH: one PEM file holding the client
	// certificate and its private key, as requests' cert= takes it.
	// ConfigFromEnv loads both.
	ServerCertPath, ClientCertPath string
	// Experiment is MLFLOW_EXPERIMENT_NAME and RunName MLFLOW_RUN, which
	// the callback reads (see Options).
	Experiment, RunName string

	tls *tls.Config // from ServerCertPath and ClientCertPath
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
	c.ServerCertPath = getenv("MLFLOW_TRACKING_SERVER_CERT_PATH")
	c.ClientCertPath = getenv("MLFLOW_TRACKING_CLIENT_CERT_PATH")
	if c.Insecure && c.ServerCertPath != "" {
		// As MlflowHostCreds refuses it.
		return c, errors.New("MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set: unset one (the CA bundle checks the server; insecure checks nothing)")
	}
	var err error
	if c.tls, err = loadTLS(c.ServerCertPath, c.ClientCertPath); err != nil {
		return c, err
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

// loadTLS reads the CA bundle at server (a PEM file, or a directory of
// PEM files) and the client certificate and key at client (one PEM file).
// It returns nil when both are empty.
func loadTLS(server, client string) (*tls.Config, error) {
	if server == "" && client == "" {
		return nil, nil
	}
	cfg := &tls.Config{}
	if server != "" {
		files := []string{server}
		if st, err := os.Stat(server); err == nil && st.IsDir() {
			entries, err := os.ReadDir(server)
			if err != nil {
				return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH %s: %v: set it to the PEM CA bundle of the server's certificate", server, err)
			}
			files = files[:0]
			for _, e := range entries {
				if e.Type().IsRegular() {
					files = append(files, filepath.Join(server, e.Name()))
				}
			}
		}
		pool, found := x509.NewCertPool(), false
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH %s: set it to the PEM CA bundle of the server's certificate", underlying(err, f))
			}
			found = pool.AppendCertsFromPEM(data) || found
		}
		if !found {
			return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH %s holds no PEM certificate: set it to the CA bundle of the server's certificate", server)
		}
		cfg.RootCAs = pool
	}
	if client != "" {
		data, err := os.ReadFile(client)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_CLIENT_CERT_PATH %s: set it to a PEM file holding the client certificate and its key", underlying(err, client))
		}
		cert, err := tls.X509KeyPair(data, data)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_CLIENT_CERT_PATH %s: %v: set it to a PEM file holding the client certificate and its key", client, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// underlying says "PATH: REASON" for a file error, naming the path once.
func underlying(err error, path string) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return path + ": " + pe.Err.Error()
	}
	return path + ": " + err.Error()
}
