package clearml

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

var (
	_ ysync.Checker = (*Destination)(nil)
	_ ysync.Checker = (*Offline)(nil)
)

// Cause classifies the error for a batch: refused credentials, a server
// error or rate limit that outlasted the retries; anything else (a
// request refused for its content) belongs to the archive.
func (e *APIError) Cause() ysync.Cause {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Code == 401 || e.Code == 403:
		return ysync.CauseCredentials
	case e.Status == http.StatusTooManyRequests:
		return ysync.CauseRateLimited
	case e.Status >= 500:
		return ysync.CauseServer
	}
	return ysync.CauseNone
}

// Check logs in with the access key (auth.login, as the SDK does first),
// asks the file server for an object that does not exist (which proves it
// answers and takes the token), and looks up the configured project and
// each of projects by name (projects.get_all; one that does not exist yet
// is a note: the first sync creates it). It writes nothing. Requests get
// two attempts and short timeouts (ysync.PreflightClientOptions).
func (r *Destination) Check(ctx context.Context, projects []string) (*ysync.Check, error) {
	copts := ysync.PreflightClientOptions()
	copts.Transport = r.copts.Transport
	c := newClient(r.cfg, copts)
	host := redactHost(r.cfg.APIHost)
	out := &ysync.Check{}
	if err := c.login(ctx); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Cause() == ysync.CauseCredentials {
			return out, &ysync.DestinationError{Cause: ysync.CauseCredentials, Err: err,
				Msg: fmt.Sprintf("ClearML at %s rejected the access key from %s (%d/%d %s): fix them, or point the API host (CLEARML_API_HOST, --clearml-api-host or api.api_server in clearml.conf) at the server they belong to",
					host, r.cfg.KeySource, ae.Code, ae.Subcode, firstNonEmpty(ae.Msg, "unauthorized"))}
		}
		return out, err
	}
	out.Notes = append(out.Notes, fmt.Sprintf("logged in with the credentials from %s%s", r.cfg.KeySource, serverOf(c.token)))
	if err := c.checkFiles(ctx); err != nil {
		return out, err
	}
	out.Notes = append(out.Notes, "file server "+redactHost(r.cfg.FilesHost)+" answers")
	for _, name := range withConfigured(r.opts.Project, projects) {
		id, err := findProject(ctx, c, name)
		if err != nil {
			return out, err
		}
		if id == "" {
			out.Notes = append(out.Notes, fmt.Sprintf("project %q does not exist yet: the first sync creates it", name))
		} else {
			out.Notes = append(out.Notes, fmt.Sprintf("project %q exists", name))
		}
	}
	return out, nil
}

// checkFiles asks the file server for an object that does not exist: any
// answer but 401/403 or a 5xx shows that it is there and takes the token.
func (c *client) checkFiles(ctx context.Context) error {
	resp, err := c.http.Do(ctx, ysync.Request{Method: "HEAD", URL: c.fileURL("yoloarchive-preflight/absent"), Header: c.bearer()})
	if err != nil {
		return c.netErr(err)
	}
	resp.Body.Close()
	host := redactHost(c.cfg.FilesHost)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return &ysync.DestinationError{Cause: ysync.CauseCredentials, Err: errFileAuth,
			Msg: fmt.Sprintf("ClearML file server %s refused the token of %s (HTTP %d): set CLEARML_FILES_HOST (or api.files_server) to that server's file server", host, redactHost(c.cfg.APIHost), resp.StatusCode)}
	case resp.StatusCode >= 500:
		return &ysync.DestinationError{Cause: ysync.CauseServer, Err: errors.New(resp.Status),
			Msg: fmt.Sprintf("ClearML file server %s answered HTTP %d: check CLEARML_FILES_HOST and the server", host, resp.StatusCode)}
	}
	return nil
}

// findProject returns the id of the project with exactly this name, ""
// when there is none.
func findProject(ctx context.Context, c *client, name string) (string, error) {
	var out struct {
		Projects []struct {
			ID string `json:"id"`
		} `json:"projects"`
	}
	err := c.call(ctx, "projects.get_all", map[string]any{"name": "^" + regexp.QuoteMeta(name) + "$",
		"only_fields": []string{"id"}, "search_hidden": true}, &out)
	if err != nil || len(out.Projects) == 0 {
		return "", err
	}
	return out.Projects[0].ID, nil
}

// withConfigured returns the configured project (if any) and then the
// others, without repeats or empty names.
func withConfigured(configured string, others []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range append([]string{configured}, others...) {
		if p = strings.Trim(p, "/"); p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// serverOf describes the server from a token's payload (a JWT; read, not
// verified): " (server 2.0.0, API 2.31)", or "".
func serverOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var p struct {
		ServerVersion string `json:"server_version"`
		APIVersion    string `json:"api_version"`
	}
	if json.Unmarshal(b, &p) != nil || p.ServerVersion == "" {
		return ""
	}
	return fmt.Sprintf(" (server %s, API %s)", p.ServerVersion, p.APIVersion)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Check checks that the output directory can be written (or made).
func (o *Offline) Check(ctx context.Context, projects []string) (*ysync.Check, error) {
	if err := ysync.CheckWritable(o.dir); err != nil {
		return &ysync.Check{}, err
	}
	return &ysync.Check{Notes: []string{o.out + " is writable"}}, nil
}
