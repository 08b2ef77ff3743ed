package comet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Sizes of the requests that carry many values (comet-api.md §4.4, §5.9).
const (
	// batchValues is the most metric values a batch request carries: the
	// SDK's COMET_MESSAGE_BATCH_METRIC_MAX_SIZE. Parameters go in batches
	// of the same size (the SDK sends them all in one; a run has a few
	// hundred at most).
	batchValues = 1000
	// outputBatch is the most console lines a write/experiment/output
	// request carries, as the online SDK sends them.
	outputBatch = 500
)

// endpoints pairs a clientlib batch endpoint (what `comet upload` sends
// to) with the REST v2 endpoint that takes the same values one request
// each.
type endpoints struct {
	batch, single string
	what          string // "metric points", for messages
}

var (
	metricEndpoints = endpoints{"clientlib/batch/logger/experiment/metric", "write/experiment/metric", "metric points"}
	paramEndpoints  = endpoints{"clientlib/batch/logger/experiment/parameter", "write/experiment/parameter", "parameters"}
)

// batchValue is what sendValues sends: a metric point or a parameter.
type batchValue[V any] interface {
	item() V
	body(key string) any
}

// sendValues sends values through e.batch, batchValues a request: the
// first batch alone, then the rest on the workers. A server that refuses
// the batch endpoint (see refusesBatch) gets each value as its own
// request to e.single instead, and the Destination says so once and does not
// try the batch endpoint again. No request is repeated blindly: one whose
// answer was lost may have been stored, so the caller's next round reads
// back before sending what is missing.
func sendValues[V any, T batchValue[V]](ctx context.Context, s *replay, e endpoints, values []T) error {
	if len(values) == 0 {
		return nil
	}
	var chunks [][]T
	for i := 0; i < len(values); i += batchValues {
		chunks = append(chunks, values[i:min(i+batchValues, len(values))])
	}
	post := func(ctx context.Context, chunk []T) error {
		vs := make([]V, len(chunk))
		for i, v := range chunk {
			vs[i] = v.item()
		}
		body := struct {
			ExperimentKey string `json:"experimentKey"`
			Values        []V    `json:"values"`
		}{s.key, vs}
		if err := s.postGzip(ysync.NotIdempotent(ctx), e.batch, body); err != nil {
			return err
		}
		s.task.Add(int64(len(chunk)))
		return nil
	}
	served, err := s.probeBatch(ctx, e, func(ctx context.Context) error { return post(ctx, chunks[0]) })
	switch {
	case err != nil:
		return err
	case served:
		return s.parallel(ctx, len(chunks)-1, func(ctx context.Context, i int) error { return post(ctx, chunks[i+1]) })
	}
	return s.parallel(ctx, len(values), func(ctx context.Context, i int) error {
		if err := s.post(ysync.NotIdempotent(ctx), e.single, values[i].body(s.key), nil); err != nil {
			return err
		}
		s.task.Add(1)
		return nil
	})
}

// refusesBatch reports whether err is a server's refusal of a batch
// endpoint itself, as a server without it answers: 404 (no such route),
// 405 (no POST there) or 501, without a Comet sdk_error_code. Any other
// answer (a 400 for a bad value, 401/403, 429, 5xx) is the endpoint's.
func refusesBatch(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 0 {
		return false
	}
	switch ae.Status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// probeBatch sends the first batch to e.batch, post, and reports whether
// the endpoint took it (served) or the server refused the endpoint
// itself (!served, nil error: the values go one request each). The
// Destination remembers the answer for every archive of the sync, and the
// first batch of each endpoint is sent by one archive at a time, so a
// server without it is tried once and the sync says so once (a warning
// in that archive's result).
func (s *replay) probeBatch(ctx context.Context, e endpoints, post func(context.Context) error) (served bool, err error) {
	s.batchMu.Lock()
	switch s.batches[e.batch] {
	case batchRefused:
		s.batchMu.Unlock()
		return false, nil
	case batchServed:
		s.batchMu.Unlock()
		err := post(ctx)
		return err == nil, err
	}
	// Unknown yet: probe holding the lock, so that the other archives
	// wait for the answer instead of asking too.
	defer s.batchMu.Unlock()
	err = post(ctx)
	var ae *APIError
	switch {
	case err == nil:
		s.setBatch(e, batchServed)
		return true, nil
	case refusesBatch(err) && errors.As(err, &ae):
		s.setBatch(e, batchRefused)
		s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("Comet at %s does not serve %s (HTTP %d): %s go one request each to %s for the rest of this sync (slower, and counted against the REST rate limits)",
			ae.Host, e.batch, ae.Status, e.what, e.single))
		return false, nil
	}
	return false, err
}

// What a Destination knows of a batch endpoint.
const (
	batchUnknown = iota
	batchServed
	batchRefused
)

// setBatch records what the server answered e.batch. Call with batchMu
// held.
func (s *replay) setBatch(e endpoints, state int) {
	if s.batches == nil {
		s.batches = map[string]int{}
	}
	s.batches[e.batch] = state
}

// sendParams sends the parameters the server lacks: all of them, or, when
// an earlier attempt or another machine may have sent some, those the
// experiment does not list yet.
func (s *replay) sendParams(ctx context.Context, round int) error {
	todo := s.params()
	if round > 0 || !s.st.Has("created") || s.st.Has("params-started") {
		have, err := s.serverParams(ctx)
		if err != nil {
			return err
		}
		n := 0
		for _, p := range todo {
			if have[p.name] {
				s.skipped++
				continue
			}
			todo[n] = p
			n++
		}
		todo = todo[:n]
	}
	if err := s.st.Mark("params-started"); err != nil {
		return err
	}
	s.task.Stage("parameters", int64(len(todo)))
	return sendValues[paramItem](ctx, s, paramEndpoints, todo)
}

// sendMetrics sends the points the server lacks: Comet keeps every point
// it receives, so a resumed sync first reads back what arrived (the
// callback itself logs some points twice; those are counted, not
// deduplicated).
func (s *replay) sendMetrics(ctx context.Context, round int) error {
	have := map[string]int{}
	if round > 0 || !s.st.Has("created") || s.st.Has("metrics-started") {
		var err error
		if have, err = s.serverPoints(ctx); err != nil {
			return err
		}
	}
	var todo []point
	for _, p := range s.points() {
		if have[p.id()] > 0 {
			have[p.id()]--
			s.skipped++
			continue
		}
		todo = append(todo, p)
	}
	stale := 0
	for _, n := range have {
		stale += n
	}
	if stale > 0 && round == 0 {
		// Points sent earlier that the archive no longer holds: an
		// earlier link of a chain, superseded by a resumed run's rows.
		s.res.Gaps = append(s.res.Gaps, schemas.GapRow{Item: schemas.GapSupersededPoints,
			Reason: fmt.Sprintf("%d metric points sent by an earlier sync are no longer in the archive (superseded by a later capture of the run, as after a resume); Comet cannot delete points, so the experiment keeps them beside the new values", stale)})
	}
	if err := s.st.Mark("metrics-started"); err != nil {
		return err
	}
	s.task.Stage("metrics", int64(len(todo)))
	return sendValues[metricItem](ctx, s, metricEndpoints, todo)
}

// sendOutput sends the console lines the experiment lacks, outputBatch a
// request and in order: all of them, or, when an earlier attempt or
// another machine may have sent some, those after the ones the
// experiment's console already ends with (see arrived).
func (s *replay) sendOutput(ctx context.Context, round int) error {
	lines := s.lines()
	from := 0
	if round > 0 || !s.st.Has("created") || s.st.Has("output-started") {
		var out struct {
			Output string `json:"output"`
		}
		if err := s.get(ctx, "experiment/output", url.Values{"experimentKey": {s.key}}, &out); err != nil {
			return err
		}
		from = arrived(lines, out.Output)
		s.skipped += from
	}
	if err := s.st.Mark("output-started"); err != nil {
		return err
	}
	s.task.Stage("console", int64(len(lines)-from))
	for i := from; i < len(lines); i += outputBatch {
		chunk := lines[i:min(i+outputBatch, len(lines))]
		out := make([]outputLine, len(chunk))
		for j, l := range chunk {
			out[j] = outputLine{Output: l.text, Stderr: l.stderr, LocalTimestamp: l.at, Offset: i + j + 1}
		}
		body := map[string]any{"experimentKey": s.key, "runContext": nil, "outputLines": out}
		if err := s.post(ysync.NotIdempotent(ctx), "write/experiment/output", body, nil); err != nil {
			return err
		}
		s.task.Add(int64(len(chunk)))
	}
	return nil
}
