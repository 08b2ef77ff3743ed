package clearml

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	gosync "sync"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// apiVersion is the API version the client calls (/v2.23/service.action),
// as the SDK calls the version its request classes were written for: the
// fields it sends are those of the 2.23 schemas, whatever the server's
// newest version. Servers accept versions above their own maximum and
// serve the newest implementation not above it.
const apiVersion = "2.23"

// client calls the ClearML API and file servers with a session token.
type client struct {
	cfg  Config
	http *ysync.Client

	mu    gosync.Mutex
	token string
}

// APIError is an error answer of the ClearML API server.
type APIError struct {
	Host     string
	Endpoint string
	Status   int
	Code     int
	Subcode  int
	Msg      string
}

// HTTPStatus is the answer's HTTP status.
func (e *APIError) HTTPStatus() int { return e.Status }

// Error says what the server refused and, for credentials, what to fix.
func (e *APIError) Error() string {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Code == 401 || e.Code == 403:
		return fmt.Sprintf("ClearML at %s rejected the access key: check CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY (or api.credentials in clearml.conf)", e.Host)
	}
	return fmt.Sprintf("ClearML at %s refused %s: %d/%d %s", e.Host, e.Endpoint, e.Code, e.Subcode, e.Msg)
}

// auth reports whether the error is a credentials problem.
func (e *APIError) auth() bool {
	return e.Status == http.StatusUnauthorized || e.Code == 401
}

type envelope struct {
	Meta struct {
		ResultCode    int    `json:"result_code"`
		ResultSubcode int    `json:"result_subcode"`
		ResultMsg     string `json:"result_msg"`
	} `json:"meta"`
	Data json.RawMessage `json:"data"`
}

func newClient(cfg Config, opts ysync.ClientOptions) *client {
	opts.InsecureSkipVerify = opts.InsecureSkipVerify || cfg.Insecure
	return &client{cfg: cfg, http: ysync.NewClient(opts)}
}

// login gets a session token with the access key (HTTP Basic).
func (c *client) login(ctx context.Context) error {
	var out struct {
		Token string `json:"token"`
	}
	hdr := http.Header{}
	req, _ := http.NewRequest("POST", "http://x", nil)
	req.SetBasicAuth(c.cfg.AccessKey, c.cfg.SecretKey)
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	if err := c.post(ctx, "auth.login", hdr, []byte("{}"), "application/json", &out); err != nil {
		return err
	}
	if out.Token == "" {
		return fmt.Errorf("ClearML at %s answered auth.login without a token: is CLEARML_API_HOST the API server (usually port 8008)?", redactHost(c.cfg.APIHost))
	}
	c.mu.Lock()
	c.token = out.Token
	c.mu.Unlock()
	return nil
}

func (c *client) bearer() http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.token)
	return h
}

// call posts a JSON body to an endpoint and decodes data into out. An
// expired token is renewed once.
func (c *client) call(ctx context.Context, endpoint string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.send(ctx, endpoint, b, "application/json", out)
}

// send posts raw bytes, logging in first and again on a 401.
func (c *client) send(ctx context.Context, endpoint string, b []byte, contentType string, out any) error {
	c.mu.Lock()
	noToken := c.token == ""
	c.mu.Unlock()
	if noToken {
		if err := c.login(ctx); err != nil {
			return err
		}
	}
	err := c.post(ctx, endpoint, c.bearer(), b, contentType, out)
	var ae *APIError
	if errors.As(err, &ae) && ae.auth() {
		if err := c.login(ctx); err != nil {
			return err
		}
		err = c.post(ctx, endpoint, c.bearer(), b, contentType, out)
	}
	return err
}

// post makes one API call. The HTTP client retries transient failures,
// an answer that is not a ClearML envelope among them (validEnvelope).
func (c *client) post(ctx context.Context, endpoint string, hdr http.Header, b []byte, contentType string, out any) error {
	hdr.Set("Content-Type", contentType)
	resp, err := c.http.Do(ctx, ysync.Request{Method: "POST", URL: c.cfg.APIHost + "/v" + apiVersion + "/" + endpoint, Header: hdr,
		Body: func() (io.Reader, error) { return bytes.NewReader(b), nil }, Length: int64(len(b)), Valid: validEnvelope})
	if err != nil {
		return c.netErr(err)
	}
	raw, err := ysync.ReadBody(resp, 64<<20)
	if err != nil {
		return &ysync.AnswerError{Msg: fmt.Sprintf("ClearML at %s: reading the answer to %s: %v", redactHost(c.cfg.APIHost), endpoint, err)}
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Meta.ResultCode == 0 {
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return &APIError{Host: redactHost(c.cfg.APIHost), Endpoint: endpoint, Status: resp.StatusCode}
		}
		return &ysync.AnswerError{Msg: fmt.Sprintf("ClearML at %s answered %s with HTTP %d and no ClearML envelope (%s): check that CLEARML_API_HOST is the API server (usually port 8008)",
			redactHost(c.cfg.APIHost), endpoint, resp.StatusCode, ysync.Snippet(raw))}
	}
	if env.Meta.ResultCode != 200 {
		return &APIError{Host: redactHost(c.cfg.APIHost), Endpoint: endpoint, Status: resp.StatusCode, Code: env.Meta.ResultCode,
			Subcode: env.Meta.ResultSubcode, Msg: env.Meta.ResultMsg}
	}
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("ClearML at %s answered %s with unexpected data (%v): is this a ClearML server?", redactHost(c.cfg.APIHost), endpoint, err)
		}
	}
	return nil
}

// validEnvelope is the ClearML API's decoder check: every answer is a JSON
// envelope with a result code, but a 401/403 may come from a proxy.
func validEnvelope(status int, raw []byte) bool {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return true
	}
	var env envelope
	return json.Unmarshal(raw, &env) == nil && env.Meta.ResultCode != 0
}

func (c *client) netErr(err error) error {
	var ne *ysync.NetError
	if errors.As(err, &ne) {
		return &ysync.DestinationError{Cause: ysync.CauseUnreachable, Err: err,
			Msg: fmt.Sprintf("ClearML at %s is unreachable (%s): check CLEARML_API_HOST / CLEARML_FILES_HOST and the network, then run again to resume", hostOf(ne.URL), ne.Reason())}
	}
	return err
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Scheme + "://" + p.Host
}

// fileURL is the file server URL of a key.
func (c *client) fileURL(key string) string {
	return c.cfg.FilesHost + "/" + (&url.URL{Path: key}).EscapedPath()
}

// fileSize returns the size of a stored object, or -1 when there is none.
func (c *client) fileSize(ctx context.Context, key string) (int64, error) {
	resp, err := c.http.Do(ctx, ysync.Request{Method: "HEAD", URL: c.fileURL(key), Header: c.bearer()})
	if err != nil {
		return 0, c.netErr(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return -1, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		if err := c.login(ctx); err != nil {
			return 0, err
		}
		return c.fileSize(ctx, key)
	case resp.StatusCode >= 300:
		return -1, nil // unknown: upload again (uploads overwrite)
	}
	return resp.ContentLength, nil
}

// upload stores one object on the file server (multipart POST, the field
// name is the key), streaming from open.
func (c *client) upload(ctx context.Context, key, contentType string, size int64, open func() (io.ReadCloser, error)) error {
	err := c.uploadOnce(ctx, key, contentType, size, open)
	if errors.Is(err, errFileAuth) {
		// The token expired: renew it once.
		if err := c.login(ctx); err != nil {
			return err
		}
		err = c.uploadOnce(ctx, key, contentType, size, open)
	}
	if errors.Is(err, errFileAuth) {
		return fmt.Errorf("ClearML file server %s refused the upload of %s (HTTP 401/403): check CLEARML_FILES_HOST and the credentials", redactHost(c.cfg.FilesHost), key)
	}
	return err
}

var errFileAuth = errors.New("file server: not authorized")

func (c *client) uploadOnce(ctx context.Context, key, contentType string, size int64, open func() (io.ReadCloser, error)) error {
	if strings.HasPrefix(contentType, "convert:") || contentType == "" {
		contentType = "application/octet-stream"
	}
	boundary := multipart.NewWriter(io.Discard).Boundary()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.SetBoundary(boundary)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(key), escapeQuotes(key)))
	h.Set("Content-Type", contentType)
	if _, err := mw.CreatePart(h); err != nil {
		return err
	}
	tail := "\r\n--" + boundary + "--\r\n"
	hdr := c.bearer()
	hdr.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	var f io.ReadCloser
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	body := func() (io.Reader, error) {
		if f != nil {
			f.Close()
		}
		var err error
		if f, err = open(); err != nil {
			return nil, err
		}
		return io.MultiReader(bytes.NewReader(head.Bytes()), f, strings.NewReader(tail)), nil
	}
	resp, err := c.http.Do(ctx, ysync.Request{Method: "POST", URL: c.cfg.FilesHost + "/", Header: hdr, Body: body,
		Length: int64(head.Len()) + size + int64(len(tail))})
	if err != nil {
		return c.netErr(err)
	}
	raw, _ := ysync.ReadBody(resp, 1<<20)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return errFileAuth
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("ClearML file server %s refused %s as too large (HTTP 413, %d bytes): raise the proxy's upload limit", redactHost(c.cfg.FilesHost), key, size)
	case resp.StatusCode >= 300:
		return fmt.Errorf("ClearML file server %s refused the upload of %s: HTTP %d %s", redactHost(c.cfg.FilesHost), key, resp.StatusCode, ysync.Snippet(raw))
	}
	return nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }
