package sync

import (
	"context"
	"errors"
	"net/http"
)

// failure is a failed attempt, kept to answer requests once the Client
// gave up.
type failure struct {
	err    error
	status int
	header http.Header
	body   []byte
}

// attempt is what RoundTrip learnt of a request's last attempt, for
// checkRetry.
type attempt struct {
	// down: the Client gave up (this attempt, or before it).
	down bool
	// invalid: the answer was not the API's (Request.Valid); invalids
	// counts such answers to the request.
	invalid  bool
	invalids int
}

// maxInvalid is how many answers that are not the API's a request gets
// before it fails: a wrong address (the web UI's port) answers so for
// good, so backing off for minutes would only delay the error.
const maxInvalid = 3

type attemptKey struct{}

// begin reserves an attempt. While attempts are failing, it lets at most
// MaxAttempts be failed or in flight at once (waiting for those in flight
// to end), so parallel workers do not multiply the bound; it reports down
// (with the last failure) once the Client gave up.
func (c *Client) begin(ctx context.Context) (last failure, down bool, err error) {
	for {
		c.mu.Lock()
		switch {
		case c.fails >= c.maxFails:
			last = c.last
			c.mu.Unlock()
			return last, true, nil
		case c.fails == 0 || c.fails+c.inflight < c.maxFails:
			c.inflight++
			c.mu.Unlock()
			return failure{}, false, nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return failure{}, false, ctx.Err()
		}
	}
}

// end records the outcome of an attempt begun as request number start: a
// failure (f set) or an answer. An answer to a request sent before the
// last failure was seen proves nothing: only a later one resets the count.
func (c *Client) end(f *failure, start int64) (down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
	if f == nil {
		if start > c.failedAt {
			c.fails = 0
		}
		return c.fails >= c.maxFails
	}
	c.fails++
	c.last = *f
	c.failedAt = c.requests.Load()
	return c.fails >= c.maxFails
}

// Down reports whether the Client gave up: the last MaxAttempts attempts
// in a row failed (see Client). A tracker's loop stops retrying then.
func (c *Client) Down() bool {
	_, down := c.gaveUp()
	return down
}

func (c *Client) gaveUp() (failure, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.fails >= c.maxFails
}

// AnswerError is an answer that was not the API's own (a proxy's page, a
// body cut short, JSON of another shape), after the retries.
type AnswerError struct{ Msg string }

// Error returns Msg.
func (e *AnswerError) Error() string { return e.Msg }

// Cause is CauseServer: the address answers, but not as the tracker.
func (e *AnswerError) Cause() Cause { return CauseServer }

// HTTPStatuser is an API error that knows the HTTP status of its answer.
type HTTPStatuser interface {
	HTTPStatus() int
}

// Transient reports whether a failed request may have had an effect or
// may succeed later: no answer (the destination unreachable), a 5xx or a
// 429, or an answer that was not the API's. A tracker looks up before it
// repeats a create on such an error; it never retries one when the
// Client is Down.
func Transient(err error) bool {
	var hs HTTPStatuser
	var ae *AnswerError
	var ne *NetError
	switch {
	case err == nil:
		return false
	case errors.As(err, &hs):
		s := hs.HTTPStatus()
		return s >= 500 || s == http.StatusTooManyRequests
	case errors.As(err, &ae), errors.As(err, &ne):
		return true
	}
	return Classify(err) == CauseUnreachable
}
