package sync

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// DefaultRetryMax is how many times a Client retries a request by
// default.
const DefaultRetryMax = 8

// MaxAttempts bounds the requests one step of a sync makes against a
// dead server (every answer a 500, or no answer): the first attempt and
// DefaultRetryMax retries, all in the HTTP layer. Trackers never retry
// on top of it.
const MaxAttempts = 1 + DefaultRetryMax

// MaxIdleConns is how many idle connections a Client keeps per host.
// When a dead server resets them, net/http resends an idempotent request
// once on a new connection: against resets a step may make up to this
// many requests more than MaxAttempts.
const MaxIdleConns = 16

// ClientOptions tune a Client. Zero values take the defaults.
type ClientOptions struct {
	// RetryMax is how many times a request is retried (default
	// DefaultRetryMax).
	RetryMax int
	// WaitMin and WaitMax bound the backoff between attempts (defaults
	// 500 ms and 30 s); a Retry-After answer is honoured up to MaxRetryAfter
	// (default 10 min).
	WaitMin, WaitMax, MaxRetryAfter time.Duration
	// HeaderTimeout is how long to wait for a response's headers
	// (default 2 min); a slower server counts as a timeout and is retried.
	HeaderTimeout time.Duration
	// DialTimeout bounds each connection attempt (default 30 s, as Go's
	// default transport); a blackholed host costs this much per attempt.
	DialTimeout time.Duration
	// Limiter, when set, spaces requests (shared by every worker that uses
	// the Client).
	Limiter *rate.Limiter
	// Gate, when set, is shared by every client of one destination: a 429
	// with Retry-After pauses all of them, not just the request that got
	// it, so parallel workers do not keep hitting a server that asked them
	// to wait.
	Gate *Gate
	// Transport replaces the default transport (tests).
	Transport http.RoundTripper
	// InsecureSkipVerify turns TLS certificate checks off.
	InsecureSkipVerify bool
	// TLSConfig, when set, is the transport's TLS configuration (a CA
	// bundle, a client certificate); InsecureSkipVerify applies on top.
	TLSConfig *tls.Config
}

// Client makes HTTP calls with retries: exponential backoff with full jitter
// on 429, 5xx, connection resets and timeouts, honouring Retry-After (and
// Comet's Retry-After-Custom). Permanent errors (4xx) return at once.
// Requests that are not idempotent are retried only when the server
// provably did not act on them (429, 503, connection refused).
//
// The retries of every request share one bound: once MaxAttempts
// attempts in a row (of any requests) failed, the Client stops sending
// and answers each further request with the last failure, until it is
// made again (one Client per archive). So a tracker's own loops (a create
// looked up and retried, a batch sent again) never multiply the attempts
// a dead server gets.
type Client struct {
	http     *retryablehttp.Client
	limiter  *rate.Limiter
	gate     *Gate
	requests atomic.Int64
	retries  atomic.Int64

	mu sync.Mutex
	// fails counts the attempts in a row that failed; last is the last
	// failure (an error, or an answer's status, header and body), seen
	// when failedAt requests had been sent. inflight counts the attempts
	// under way; changed is closed when one ends.
	fails    int
	maxFails int
	last     failure
	failedAt int64
	inflight int
	changed  chan struct{}
}

// NewClient returns a Client.
func NewClient(o ClientOptions) *Client {
	if o.RetryMax == 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.WaitMin == 0 {
		o.WaitMin = 500 * time.Millisecond
	}
	if o.WaitMax == 0 {
		o.WaitMax = 30 * time.Second
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = 10 * time.Minute
	}
	if o.HeaderTimeout == 0 {
		o.HeaderTimeout = 2 * time.Minute
	}
	tr := o.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = o.HeaderTimeout
		if o.DialTimeout > 0 {
			t.DialContext = (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
			t.TLSHandshakeTimeout = min(t.TLSHandshakeTimeout, o.DialTimeout+o.HeaderTimeout)
		}
		t.MaxIdleConnsPerHost = MaxIdleConns
		if o.TLSConfig != nil {
			t.TLSClientConfig = o.TLSConfig.Clone()
		}
		if o.InsecureSkipVerify {
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true
		}
		tr = t
	}
	c := &Client{limiter: o.Limiter, gate: o.Gate, maxFails: o.RetryMax + 1}
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.RetryMax = o.RetryMax
	rc.RetryWaitMin = o.WaitMin
	rc.RetryWaitMax = o.WaitMax
	rc.HTTPClient = &http.Client{Transport: countingTransport{tr, c}}
	rc.CheckRetry = c.checkRetry
	rc.Backoff = func(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
		return backoff(lo, hi, o.MaxRetryAfter, attempt, resp)
	}
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.PrepareRetry = func(*http.Request) error { c.retries.Add(1); return nil }
	c.http = rc
	return c
}

// Requests returns the number of HTTP requests sent, retries included.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Retries returns the number of retried requests.
func (c *Client) Retries() int64 { return c.retries.Load() }

type countingTransport struct {
	rt http.RoundTripper
	c  *Client
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	if a == nil {
		a = &attempt{}
	}
	a.down, a.invalid = false, false
	if err := t.c.gate.wait(ctx); err != nil {
		return nil, err
	}
	if t.c.limiter != nil {
		if err := t.c.limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	last, down, err := t.c.begin(ctx)
	if err != nil {
		return nil, err
	}
	if down {
		// Given up: answer with the last failure, sending nothing.
		a.down = true
		if last.err != nil {
			return nil, last.err
		}
		return &http.Response{StatusCode: last.status, Status: fmt.Sprintf("%d %s", last.status, http.StatusText(last.status)),
			Header: last.header.Clone(), Body: io.NopCloser(bytes.NewReader(last.body)), Request: r, ContentLength: int64(len(last.body))}, nil
	}
	start := t.c.requests.Add(1)
	resp, err := t.rt.RoundTrip(r)
	var f *failure
	switch {
	case err != nil:
		if retryableNetError(err) {
			f = &failure{err: err}
		}
	default:
		code := resp.StatusCode
		bad := code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
		valid, _ := ctx.Value(validKey{}).(Valid)
		if bad || valid != nil {
			// Read the answer now: a failure is kept whole, and the
			// API's decoder looks at it.
			raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(raw))
			switch {
			case rerr != nil:
				// The answer broke off: as if there was none.
				resp, err = nil, fmt.Errorf("reading the answer: %w", rerr)
				f = &failure{err: err}
			case bad:
				f = &failure{status: code, header: resp.Header.Clone(), body: raw}
			case !valid(code, raw):
				// Not the API's answer (a proxy's page): a server error.
				a.invalid = true
				a.invalids++
				f = &failure{status: code, header: resp.Header.Clone(), body: raw}
			}
		}
		if err == nil && (code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable) {
			if d, ok := RetryAfter(resp); ok {
				t.c.gate.pause(d)
			}
		}
	}
	a.down = t.c.end(f, start)
	return resp, err
}

// Gate pauses every client sharing it until a time a server named
// (Retry-After). The zero value is open; a nil *Gate is always open.
type Gate struct {
	mu    sync.Mutex
	until time.Time
	// Pauses counts the pauses (tests and reports).
	pauses atomic.Int64
}

// Pauses returns how many times the gate closed.
func (g *Gate) Pauses() int64 {
	if g == nil {
		return 0
	}
	return g.pauses.Load()
}

func (g *Gate) pause(d time.Duration) {
	if g == nil || d <= 0 {
		return
	}
	d = min(d, 10*time.Minute)
	g.mu.Lock()
	if t := time.Now().Add(d); t.After(g.until) {
		g.until = t
		g.pauses.Add(1)
	}
	g.mu.Unlock()
}

func (g *Gate) wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	d := time.Until(g.until)
	g.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return Sleep(ctx, d)
}

// Sleep waits for d, or until ctx is done (returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type idempotentKey struct{}

// NotIdempotent marks the requests made with ctx as not safe to repeat
// blindly (creates): they are retried only when the server did not act.
func NotIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, false)
}

// Idempotent reports whether requests made with ctx may be repeated.
func Idempotent(ctx context.Context) bool {
	v, ok := ctx.Value(idempotentKey{}).(bool)
	return !ok || v
}

type validKey struct{}

// Valid reports whether an answer is the API's own (not a proxy's page or
// a truncated body); see Request.Valid.
type Valid func(status int, body []byte) bool

// maxAnswer bounds an answer the HTTP layer reads for a decoder (Valid)
// or keeps as a failure.
const maxAnswer = 256 << 20

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	safe := true
	if v, ok := ctx.Value(idempotentKey{}).(bool); ok {
		safe = v
	}
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	if a == nil {
		a = &attempt{}
	}
	if err != nil {
		if a.down || !retryableNetError(err) {
			return false, err
		}
		if !safe && !errors.Is(err, syscall.ECONNREFUSED) {
			return false, err
		}
		return true, nil
	}
	switch code := resp.StatusCode; {
	case a.down:
		return false, nil
	case a.invalid:
		return safe && a.invalids < maxInvalid, nil
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		return true, nil
	case code >= 500 && code != http.StatusNotImplemented:
		return safe, nil
	}
	return false, nil
}

// retryableNetError tells transient transport errors from permanent ones
// (bad URL, TLS certificate problems, too many redirects).
func retryableNetError(err error) bool {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		var cert *x509.UnknownAuthorityError
		var host x509.HostnameError
		var inv x509.CertificateInvalidError
		if errors.As(err, &cert) || errors.As(err, &host) || errors.As(err, &inv) {
			return false
		}
		if strings.Contains(uerr.Error(), "stopped after") || strings.Contains(uerr.Error(), "unsupported protocol scheme") {
			return false
		}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false
	}
	return true
}

// backoff waits as a Retry-After (or Retry-After-Custom) header says, else
// exponentially with full jitter between min and min·2^attempt (≤ max).
func backoff(lo, hi, maxAfter time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := RetryAfter(resp); ok {
			return clampDur(d, 0, maxAfter)
		}
	}
	ceil := lo << min(attempt, 20)
	if ceil <= 0 || ceil > hi {
		ceil = hi
	}
	if ceil <= lo {
		return lo
	}
	return lo + time.Duration(rand.Int64N(int64(ceil-lo)))
}

// RetryAfter reads a Retry-After-Custom or Retry-After header (seconds or
// an HTTP date).
func RetryAfter(resp *http.Response) (time.Duration, bool) {
	for _, h := range []string{"Retry-After-Custom", "Retry-After"} {
		v := strings.TrimSpace(resp.Header.Get(h))
		if v == "" {
			continue
		}
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second)), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return time.Until(t), true
		}
	}
	return 0, false
}

func clampDur(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(d, hi))
}

// Request is one HTTP request. Body is called for every attempt, so a file
// can be reopened instead of buffered.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   func() (io.Reader, error)
	// Length is the body's length when known (-1 otherwise), sent as
	// Content-Length.
	Length int64
	// Valid, when set, is the API's decoder check: an answer it refuses
	// (a proxy's HTML page, a body cut short) is retried as a server
	// error, within the same bound, at most twice. The answer is read
	// whole (up to 256 MiB) before Do returns.
	Valid Valid
}

// Do sends the request with retries. The caller closes the response body.
// An error is returned only when no response was received; a final 4xx or
// 5xx response is returned as is, for the tracker to explain.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	var body any
	if r.Body != nil {
		body = retryablehttp.ReaderFunc(r.Body)
	}
	if r.Valid != nil {
		ctx = context.WithValue(ctx, validKey{}, r.Valid)
	}
	ctx = context.WithValue(ctx, attemptKey{}, &attempt{})
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Length > 0 {
		req.ContentLength = r.Length
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NetError{URL: redactURL(r.URL), Err: err}
	}
	return resp, nil
}

// NetError is a request that got no answer after its retries.
type NetError struct {
	URL string
	Err error
}

// Error names the request (without credentials) and the cause.
func (e *NetError) Error() string {
	return fmt.Sprintf("%s: no answer: %s", e.URL, e.Reason())
}

// Reason is why there was no answer, without the request ("dial tcp
// 127.0.0.1:9: connect: connection refused").
func (e *NetError) Reason() string {
	var uerr *url.Error
	if errors.As(e.Err, &uerr) {
		return uerr.Err.Error()
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *NetError) Unwrap() error { return e.Err }

// redactURL drops the query (which may carry keys) and any user info.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(bad URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// ReadBody reads at most limit bytes of a response body and closes it.
func ReadBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return b, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return b, nil
}

// Snippet returns the start of a body for an error message, on one line.
func Snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return strconv.Quote(s)
}
