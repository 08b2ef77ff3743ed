package mlflow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// apiPrefix is the tracking API's path (REST API 2.0).
const apiPrefix = "/api/2.0/mlflow/"

// artifactsPrefix is the artifacts proxy's path (mlflow server
// --serve-artifacts, the default since 2.0).
const artifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts"

// maxAnswer bounds an answer read into memory.
const maxAnswer = 64 << 20

// APIError is an answer of the server other than 200: its HTTP status
// and, when the body is MLflow's error JSON, error_code and message.
type APIError struct {
	Endpoint string
	Status   int
	Code     string
	Message  string
	hint     string
}

// Error is one line naming the endpoint, the answer and what to do.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("mlflow %s: HTTP %d", e.Endpoint, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.hint != "" {
		msg += " (" + e.hint + ")"
	}
	return msg
}

// Cause classifies the answer for a batch: refused credentials, rate
// limits and server errors are the destination's, anything else the
// archive's.
func (e *APIError) Cause() ysync.Cause {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return ysync.CauseCredentials
	case e.Status == http.StatusTooManyRequests:
		return ysync.CauseRateLimited
	case e.Status >= 500:
		return ysync.CauseServer
	}
	return ysync.CauseNone
}

// notFound reports whether err is MLflow's RESOURCE_DOES_NOT_EXIST.
func notFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == "RESOURCE_DOES_NOT_EXIST"
}

// transient reports whether a request may have failed without the server
// acting on it, or with the answer lost: no answer, or a 5xx.
func transient(err error) bool {
	var ne *ysync.NetError
	if errors.As(err, &ne) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.Status >= 500
}

// client sends the API's requests through the shared HTTP client (its
// retries are the only ones) with the configured credentials.
type client struct {
	cfg  Config
	http *ysync.Client
}

func (c *client) header() http.Header {
	h := http.Header{}
	switch {
	case c.cfg.Username != "" && c.cfg.Password != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.cfg.Username+":"+c.cfg.Password)))
	case c.cfg.Token != "":
		h.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	return h
}

// get calls a GET endpoint with query q and decodes the answer into out.
func (c *client) get(ctx context.Context, endpoint string, q url.Values, out any) error {
	u := c.cfg.base() + apiPrefix + endpoint
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return c.do(ctx, endpoint, ysync.Request{Method: http.MethodGet, URL: u, Header: c.header()}, out)
}

// post calls a POST endpoint with body as JSON.
func (c *client) post(ctx context.Context, endpoint string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("mlflow %s: %w", endpoint, err)
	}
	h := c.header()
	h.Set("Content-Type", "application/json")
	return c.do(ctx, endpoint, ysync.Request{Method: http.MethodPost, URL: c.cfg.base() + apiPrefix + endpoint, Header: h,
		Body: func() (io.Reader, error) { return bytes.NewReader(b), nil }, Length: int64(len(b))}, out)
}

// put uploads an artifact through the proxy; body is reopened for each
// attempt.
func (c *client) put(ctx context.Context, path string, size int64, body func() (io.Reader, error)) error {
	h := c.header()
	h.Set("Content-Type", "application/octet-stream")
	return c.do(ctx, "mlflow-artifacts PUT", ysync.Request{Method: http.MethodPut, URL: c.cfg.base() + artifactsPrefix + path,
		Header: h, Body: body, Length: size}, nil)
}

func (c *client) do(ctx context.Context, endpoint string, r ysync.Request, out any) error {
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		return err
	}
	b, err := ysync.ReadBody(resp, maxAnswer)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ysync.NetError{URL: c.cfg.base() + apiPrefix + endpoint, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Endpoint: endpoint, Status: resp.StatusCode}
		var body struct {
			Code    string `json:"error_code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &body) == nil && body.Code != "" {
			ae.Code, ae.Message = body.Code, oneLine(body.Message)
		} else if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			ae.Message = "answer " + ysync.Snippet(b)
		}
		switch ae.Cause() {
		case ysync.CauseCredentials:
			ae.hint = c.cfg.authHint()
			if resp.StatusCode == http.StatusForbidden {
				ae.hint = "the credentials lack a permission on this experiment: " + ae.hint
			}
		case ysync.CauseServer:
			ae.hint = "the server failed after retries: run the same command again to resume"
		default:
			if ae.Code == "" && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed) {
				ae.hint = "no MLflow tracking API at " + c.cfg.base() + ": is MLFLOW_TRACKING_URI the tracking server's address?"
			}
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("mlflow %s: the server answered 200 with a body that is not MLflow's JSON (%s): is MLFLOW_TRACKING_URI the tracking server?", endpoint, ysync.Snippet(b))
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// notIdempotent marks requests that must not be repeated blindly.
func notIdempotent(ctx context.Context) context.Context { return ysync.NotIdempotent(ctx) }
