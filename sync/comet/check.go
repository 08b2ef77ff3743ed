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
// 90212, means the server does not know it) and checks that the workspace
// is one of the key's (GET workspaces); projects are looked up with GET
// project?workspaceName=&projectName= (404, or 400 "not found", means
// none yet). It writes nothing. Requests get two attempts and short
// timeouts (ysync.PreflightClientOptions).
func (r *Destination) Check(ctx context.Context) ([]string, *ysync.Projects, error) {
	copts := ysync.PreflightClientOptions()
	copts.Transport = r.copts.Transport
	s := &replay{Destination: r, http: ysync.NewClient(copts)}
	var notes []string
	var acct struct {
		UserName             string `json:"userName"`
		DefaultWorkspaceName string `json:"defaultWorkspaceName"`
	}
	if err := s.get(ctx, "account-details", nil, &acct); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.badKey() {
			return notes, nil, &ysync.DestinationError{Cause: ysync.CauseCredentials, Err: err,
				Msg: fmt.Sprintf("Comet at %s rejected the API key from %s (HTTP %d%s): fix it, or set COMET_URL_OVERRIDE to the server it belongs to",
					r.cfg.Root(), r.keySource(), ae.Status, codeSuffix(ae.Code))}
		}
		return notes, nil, err
	}
	notes = append(notes, fmt.Sprintf("the API key from %s is %s's", r.keySource(), acct.UserName))
	s.ws = r.workspaceHint()
	if s.ws == "" {
		s.ws = acct.DefaultWorkspaceName
		notes = append(notes, fmt.Sprintf("workspace %q (the key's default)", s.ws))
	} else {
		var list struct {
			WorkspaceNames []string `json:"workspaceNames"`
		}
		if err := s.get(ctx, "workspaces", nil, &list); err != nil {
			return notes, nil, err
		}
		if !slices.Contains(list.WorkspaceNames, s.ws) {
			return notes, nil, s.noWorkspace(list.WorkspaceNames)
		}
		notes = append(notes, fmt.Sprintf("workspace %q", s.ws))
	}
	return notes, &ysync.Projects{Noun: "project", Configured: r.projectHint(), Find: s.findProject}, nil
}

// findProject reports whether the workspace has the named project.
func (s *replay) findProject(ctx context.Context, name string) (bool, string, error) {
	var p struct {
		ProjectID string `json:"projectId"`
	}
	err := s.get(ctx, "project", url.Values{"workspaceName": {s.ws}, "projectName": {name}}, &p)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Code == codeNoSuchWorkspace:
		return false, "", s.noWorkspace(nil)
	case projectMissing(err):
		return false, "", nil
	}
	return err == nil, "", err
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

// Check checks that the output directory can be written (or made).
func (o *Offline) Check(ctx context.Context) ([]string, *ysync.Projects, error) {
	if err := ysync.CheckWritable(o.abs); err != nil {
		return nil, nil, err
	}
	return []string{o.dir + " is writable"}, nil, nil
}
