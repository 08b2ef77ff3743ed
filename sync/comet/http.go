package comet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// APIError is an error answer of the Comet server.
type APIError struct {
	Host, Endpoint string
	Status         int
	Code           int
	Msg            string
}

// HTTPStatus is the answer's HTTP status.
func (e *APIError) HTTPStatus() int { return e.Status }

// Error says what the server refused and, for the key, what to fix.
func (e *APIError) Error() string {
	if e.badKey() {
		return fmt.Sprintf("Comet at %s rejected the API key: check COMET_API_KEY (or api_key in .comet.config)", e.Host)
	}
	if e.Status == http.StatusForbidden {
		return fmt.Sprintf("Comet at %s refused %s: %s (HTTP 403: check the workspace and the key's access to it)", e.Host, e.Endpoint, e.Msg)
	}
	return fmt.Sprintf("Comet at %s refused %s: HTTP %d %s", e.Host, e.Endpoint, e.Status, e.Msg)
}

// parallel runs n jobs on the Destination's workers, stopping at the first
// error that is not transient, and returns the first error. Jobs count
// their own progress.
func (s *replay) parallel(ctx context.Context, n int, job func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Not errgroup.WithContext: a transient failure does not stop the
	// others (the caller's next round resends what is missing).
	var g errgroup.Group
	g.SetLimit(min(s.workers, max(n, 1)))
	for i := 0; i < n && ctx.Err() == nil; i++ {
		g.Go(func() error {
			err := job(ctx, i)
			if err != nil && !ysync.Transient(err) {
				cancel()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func (s *replay) header() http.Header {
	h := http.Header{}
	h.Set("Authorization", s.cfg.APIKey)
	return h
}

func (s *replay) get(ctx context.Context, endpoint string, q url.Values, out any) error {
	p := endpoint
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return s.do(ctx, "GET", p, s.header(), nil, 0, out)
}

func (s *replay) post(ctx context.Context, endpoint string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	h := s.header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	return s.do(ctx, "POST", endpoint, h, func() (io.Reader, error) { return bytes.NewReader(b), nil }, int64(len(b)), out)
}

// postGzip posts body as gzip-compressed JSON, as the SDK posts its
// batches (Content-Encoding: gzip, comet-api.md §1.2; the SDK's
// COMET_MESSAGE_BATCH_USE_COMPRESSION defaults to true).
func (s *replay) postGzip(ctx context.Context, endpoint string, body any) error {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	b := buf.Bytes()
	h := s.header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Content-Encoding", "gzip")
	return s.do(ctx, "POST", endpoint, h, func() (io.Reader, error) { return bytes.NewReader(b), nil }, int64(len(b)), nil)
}

// gzipWriters keeps the compressors of batch bodies for the next batch
// instead of allocating their tables again for every request (about
// 300 KiB each: 1.4 MB less garbage per 300-epoch run).
var gzipWriters = gosync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
	return zw
}}

// do makes one request. The HTTP client retries transient failures, an
// answer that is not JSON among them (when the request may be repeated).
func (s *replay) do(ctx context.Context, method, endpoint string, hdr http.Header, body func() (io.Reader, error), n int64, out any) error {
	host := s.cfg.Root()
	name, _, _ := strings.Cut(endpoint, "?")
	valid := func(status int, raw []byte) bool {
		if status >= 300 {
			return true // an error answer says what it can, JSON or not
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			return out == nil
		}
		return json.Valid(raw)
	}
	resp, err := s.http.Do(ctx, ysync.Request{Method: method, URL: s.cfg.endpointURL(endpoint), Header: hdr, Body: body, Length: n, Valid: valid})
	if err != nil {
		var ne *ysync.NetError
		if errors.As(err, &ne) {
			return unreachable(host, ne)
		}
		return err
	}
	raw, err := ysync.ReadBody(resp, 256<<20)
	if err != nil {
		return &ysync.AnswerError{Msg: fmt.Sprintf("Comet at %s: reading the answer to %s: %v", host, name, err)}
	}
	if resp.StatusCode >= 300 {
		return apiError(host, name, resp.StatusCode, raw)
	}
	if out == nil {
		if len(bytes.TrimSpace(raw)) > 0 && !json.Valid(raw) {
			return &ysync.AnswerError{Msg: fmt.Sprintf("Comet at %s answered %s with something that is not JSON (%s): check COMET_URL_OVERRIDE", host, name, ysync.Snippet(raw))}
		}
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &ysync.AnswerError{Msg: fmt.Sprintf("Comet at %s answered %s with something that is not the expected JSON (%s): check COMET_URL_OVERRIDE", host, name, ysync.Snippet(raw))}
	}
	return nil
}

// apiError is the error of an answer with status >= 300.
func apiError(host, endpoint string, status int, raw []byte) error {
	var e struct {
		Msg  string `json:"msg"`
		Code int    `json:"sdk_error_code"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Msg == "" {
		e.Msg = ysync.Snippet(raw)
	}
	return &APIError{Host: host, Endpoint: endpoint, Status: status, Code: e.Code, Msg: e.Msg}
}

// getList reads a GET answer of the shape {"<field>": [item, ...], ...}
// as it arrives, decoding one item at a time into a fresh T and handing
// it to fn: a list of any length is never held (a metric read-back's
// points). The other fields are skipped. An answer that breaks off or is
// not that JSON is an *ysync.AnswerError (transient: the caller reads
// again).
func getList[T any](ctx context.Context, s *replay, endpoint string, q url.Values, field string, fn func(T) error) error {
	host := s.cfg.Root()
	p := endpoint + "?" + q.Encode()
	resp, err := s.http.Do(ctx, ysync.Request{Method: "GET", URL: s.cfg.endpointURL(p), Header: s.header()})
	if err != nil {
		var ne *ysync.NetError
		if errors.As(err, &ne) {
			return unreachable(host, ne)
		}
		return err
	}
	if resp.StatusCode >= 300 {
		raw, err := ysync.ReadBody(resp, 1<<20)
		if err != nil {
			return &ysync.AnswerError{Msg: fmt.Sprintf("Comet at %s: reading the answer to %s: %v", host, endpoint, err)}
		}
		return apiError(host, endpoint, resp.StatusCode, raw)
	}
	defer resp.Body.Close()
	bad := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ysync.AnswerError{Msg: fmt.Sprintf("Comet at %s answered %s with something that is not the expected JSON (%v): check COMET_URL_OVERRIDE", host, endpoint, err)}
	}
	dec := json.NewDecoder(resp.Body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return bad(fmt.Errorf("no object: %v", err))
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		if t != field {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad(err)
			}
			continue
		}
		t, err = dec.Token()
		if err == nil && t == nil {
			continue // null: no items
		}
		if err != nil || t != json.Delim('[') {
			return bad(fmt.Errorf("%q is not a list", field))
		}
		for dec.More() {
			var item T
			if err := dec.Decode(&item); err != nil {
				return bad(err)
			}
			if err := fn(item); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	return nil
}
