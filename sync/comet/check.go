package comet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

var (
	_ ysync.Checker = (*Destination)(nil)
	_ ysync.Checker = (*Offline)(nil)
)

// codeKeyNotRegistered is the sdk_error_code of an API key the server
// does not know (comet-api.md §4.3), sent with 400 or 403.
const codeKeyNotRegistered = 90212

// badKey reports whether the answer refuses the API key: 401 (comet-api.md
// §4.3: "401 on GET → invalid API key"), or 90212 with 400 or 403.
func (e *APIError) badKey() bool {
	return e.Status == http.StatusUnauthorized || e.Code == codeKeyNotRegistered
}

// Cause classifies the error for a batch: a refused key, a server error
// or rate limit that outlasted the retries; anything else (a request
// refused for its content) belongs to the archive.
func (e *APIError) Cause() ysync.Cause {
	switch {
	case e.badKey():
		return ysync.CauseCredentials
	case e.Status == http.StatusTooManyRequests:
		return ysync.CauseRateLimited
	case e.Status >= 500:
		return ysync.CauseServer
	}
	return ysync.CauseNone
}

// unreachable is the error of a request that got no answer.
func unreachable(host string, ne *ysync.NetError) error {
	return &ysync.DestinationError{Cause: ysync.CauseUnreachable, Err: ne,
		Msg: fmt.Sprintf("Comet at %s is unreachable (%s): check COMET_URL_OVERRIDE and the network, then run again to resume", host, ne.Reason())}
}

// Check validates the key as the SDK does (GET account-details: 401, or
// 90212, means the server does not know it), checks that the workspace
// is one of the key's (GET workspaces), and looks up the configured
// project and each of projects (GET project?workspaceName=&projectName=;
// 404, or 400 "not found", means none yet: the first sync creates it).
// It writes nothing. Requests get two attempts and short timeouts
// (ysync.PreflightClientOptions).
func (r *Destination) Check(ctx context.Context, projects []string) (*ysync.Check, error) {
	copts := ysync.PreflightClientOptions()
	copts.Transport = r.copts.Transport
	s := &replay{Destination: r, http: ysync.NewClient(copts)}
	out := &ysync.Check{}
	var acct struct {
		UserName             string `json:"userName"`
		DefaultWorkspaceName string `json:"defaultWorkspaceName"`
	}
	if err := s.get(ctx, "account-details", nil, &acct); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.badKey() {
			return out, &ysync.DestinationError{Cause: ysync.CauseCredentials, Err: err,
				Msg: fmt.Sprintf("Comet at %s rejected the API key from %s (HTTP %d%s): fix it, or set COMET_URL_OVERRIDE to the server it belongs to",
					r.cfg.Root(), r.keySource(), ae.Status, codeSuffix(ae.Code))}
		}
		return out, err
	}
	out.Notes = append(out.Notes, fmt.Sprintf("the API key from %s is %s's", r.keySource(), acct.UserName))
	s.ws = r.workspaceHint()
	if s.ws == "" {
		s.ws = acct.DefaultWorkspaceName
		out.Notes = append(out.Notes, fmt.Sprintf("workspace %q (the key's default)", s.ws))
	} else {
		var list struct {
			WorkspaceNames []string `json:"workspaceNames"`
		}
		if err := s.get(ctx, "workspaces", nil, &list); err != nil {
			return out, err
		}
		if !slices.Contains(list.WorkspaceNames, s.ws) {
			return out, s.noWorkspace(list.WorkspaceNames)
		}
		out.Notes = append(out.Notes, fmt.Sprintf("workspace %q", s.ws))
	}
	for _, name := range withConfigured(r.projectHint(), projects) {
		var p struct {
			ProjectID string `json:"projectId"`
		}
		err := s.get(ctx, "project", url.Values{"workspaceName": {s.ws}, "projectName": {name}}, &p)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Code == codeNoSuchWorkspace:
			return out, s.noWorkspace(nil)
		case projectMissing(err):
			out.Notes = append(out.Notes, fmt.Sprintf("project %q does not exist yet: the first sync creates it", name))
		case err != nil:
			return out, err
		default:
			out.Notes = append(out.Notes, fmt.Sprintf("project %q exists", name))
		}
	}
	return out, nil
}

// noWorkspace is the error of a workspace the key cannot use.
func (s *replay) noWorkspace(have []string) error {
	which := ""
	if len(have) > 0 {
		which = " (" + strings.Join(have, ", ") + ")"
	}
	return &ysync.DestinationError{Cause: ysync.CauseRefused, Err: errors.New("no such workspace"),
		Msg: fmt.Sprintf("Comet at %s has no workspace %q for this key%s: set COMET_WORKSPACE or --comet-workspace to one of the key's workspaces", s.cfg.Root(), s.ws, which)}
}

func (r *Destination) keySource() string {
	if r.cfg.KeySource != "" {
		return r.cfg.KeySource
	}
	return "COMET_API_KEY"
}

func codeSuffix(code int) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprintf(", sdk_error_code %d", code)
}

// withConfigured returns the configured project (if any) and then the
// others, without repeats or empty names.
func withConfigured(configured string, others []string) []string {
	var out []string
	for _, p := range append([]string{configured}, others...) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Check checks that the output directory can be written (or made).
func (o *Offline) Check(ctx context.Context, projects []string) (*ysync.Check, error) {
	if err := ysync.CheckWritable(o.abs); err != nil {
		return &ysync.Check{}, err
	}
	return &ysync.Check{Notes: []string{o.dir + " is writable"}}, nil
}
