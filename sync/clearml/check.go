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

// Check logs in with the access key (auth.login, as the SDK does first)
// and asks the file server for an object that does not exist (which
// proves it answers and takes the token); projects are looked up by name
// (projects.get_all). It writes nothing. Requests get two attempts and
// short timeouts (ysync.PreflightClientOptions).
func (r *Destination) Check(ctx context.Context) ([]string, *ysync.Projects, error) {
	copts := ysync.PreflightClientOptions()
	copts.Transport = r.copts.Transport
	c := newClient(r.cfg, copts)
	host := redactHost(r.cfg.APIHost)
	var notes []string
	if err := c.login(ctx); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Cause() == ysync.CauseCredentials {
			return notes, nil, &ysync.DestinationError{Cause: ysync.CauseCredentials, Err: err,
				Msg: fmt.Sprintf("ClearML at %s rejected the access key from %s (%d/%d %s): fix them, or point the API host (CLEARML_API_HOST, --clearml-api-host or api.api_server in clearml.conf) at the server they belong to",
					host, r.cfg.KeySource, ae.Code, ae.Subcode, firstNonEmpty(ae.Msg, "unauthorized"))}
		}
		return notes, nil, err
	}
	notes = append(notes, fmt.Sprintf("logged in with the credentials from %s%s", r.cfg.KeySource, serverOf(c.token)))
	if err := c.checkFiles(ctx); err != nil {
		return notes, nil, err
	}
	notes = append(notes, "file server "+redactHost(r.cfg.FilesHost)+" answers")
	return notes, &ysync.Projects{Noun: "project", Configured: r.opts.Project, Trim: "/",
		Find: func(ctx context.Context, name string) (bool, string, error) {
			id, err := findProject(ctx, c, name)
			return id != "", "", err
		}}, nil
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
func (o *Offline) Check(ctx context.Context) ([]string, *ysync.Projects, error) {
	if err := ysync.CheckWritable(o.dir); err != nil {
		return nil, nil, err
	}
	return []string{o.out + " is writable"}, nil, nil
}
