package comet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	gosync "sync"

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

// sendValues sends the values values yields through e.batch, batchValues
// a request, as they are generated: the first batch alone, then the rest
// on the workers (a few batches in flight, never the whole list). A
// server that refuses the batch endpoint (see refusesBatch) gets each
// value as its own request to e.single instead, and the Destination says
// so once and does not try the batch endpoint again. No request is
// repeated blindly: one whose answer was lost may have been stored, so
// the caller's next round reads back before sending what is missing.
func sendValues[V any, T batchValue[V]](ctx context.Context, s *replay, e endpoints, values func(ctx context.Context, yield func(T) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The generator fills batches on its own goroutine; the channel holds
	// none, so it runs at most one batch ahead of the workers.
	chunks := make(chan []T)
	genDone := make(chan error, 1)
	go func() {
		defer close(chunks)
		var chunk []T
		send := func() error {
			select {
			case chunks <- chunk:
				chunk = nil
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := values(ctx, func(v T) error {
			if chunk = append(chunk, v); len(chunk) == batchValues {
				return send()
			}
			return nil
		})
		if err == nil && len(chunk) > 0 {
			err = send()
		}
		genDone <- err
	}()
	// The generator's error, once it stopped (draining what it still
	// sends).
	generated := func() error {
		for range chunks {
		}
		return <-genDone
	}
	first, ok := <-chunks
	if !ok {
		return generated()
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
	served, err := s.probeBatch(ctx, e, func(ctx context.Context) error { return post(ctx, first) })
	if err != nil {
		cancel()
		generated()
		return err
	}
	job := post
	if !served {
		// One request a value, the values of a batch on the workers.
		job = func(ctx context.Context, chunk []T) error {
			return s.parallel(ctx, len(chunk), func(ctx context.Context, i int) error {
				if err := s.post(ysync.NotIdempotent(ctx), e.single, chunk[i].body(s.key), nil); err != nil {
					return err
				}
				s.task.Add(1)
				return nil
			})
		}
		if err := job(ctx, first); err != nil {
			cancel()
			generated()
			return err
		}
	}
	workers := s.workers
	if !served {
		workers = 1 // each batch is spread on the workers already
	}
	err = drainChunks(ctx, cancel, workers, chunks, job)
	if gerr := generated(); err == nil && gerr != nil && !errors.Is(gerr, context.Canceled) {
		err = gerr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// drainChunks runs job on workers goroutines for each chunk received until
// chunks is closed. A transient failure does not stop the others (the
// caller's next round resends what is missing); any other cancels ctx.
// It returns the first error.
func drainChunks[T any](ctx context.Context, cancel func(), workers int, chunks <-chan []T, job func(context.Context, []T) error) error {
	var mu gosync.Mutex
	var first error
	var wg gosync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for chunk := range chunks {
				if ctx.Err() != nil {
					continue // drain: the generator stops on its own
				}
				if err := job(ctx, chunk); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					if !ysync.Transient(err) {
						cancel()
					}
				}
			}
		})
	}
	wg.Wait()
	return first
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
	return sendValues[paramItem](ctx, s, paramEndpoints, func(_ context.Context, yield func(param) error) error {
		for _, p := range todo {
			if err := yield(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// sendMetrics sends the points the server lacks, as the Log generates
// them: Comet keeps every point it receives, so a resumed sync first
// reads back what arrived (the callback itself logs some points twice;
// those are counted, not deduplicated). The read-back compares metric by
// metric (see detail): a metric the server holds whole is skipped without
// a second look, and only the points of the others are compared.
func (s *replay) sendMetrics(ctx context.Context, round int) error {
	want, err := s.planned(ctx)
	if err != nil {
		return err
	}
	if !(round > 0 || !s.st.Has("created") || s.st.Has("metrics-started")) {
		if err := s.st.Mark("metrics-started"); err != nil {
			return err
		}
		s.task.Stage("metrics", int64(want.total))
		return sendValues[metricItem](ctx, s, metricEndpoints, s.eachPoint)
	}
	have, err := s.served(ctx)
	if err != nil {
		return err
	}
	// Points sent earlier that the archive no longer holds: of metrics
	// the plan lacks, and (below) those left over from the others.
	stale, todo := 0, 0
	for _, n := range have.names {
		if _, ok := want.by[n]; !ok {
			stale += have.by[n].n
		}
	}
	diff := differing(want, have)
	for _, n := range want.names {
		if slices.Contains(diff, n) {
			todo += want.by[n].n // at most
		} else {
			s.skipped += want.by[n].n
		}
	}
	if err := s.st.Mark("metrics-started"); err != nil {
		return err
	}
	s.task.Stage("metrics", int64(todo))
	err = sendValues[metricItem](ctx, s, metricEndpoints, func(ctx context.Context, yield func(point) error) error {
		return s.detail(ctx, diff, sizeOf(want, have),
			func(p point, h uint64, have map[uint64]int) error {
				if have[h] > 0 {
					have[h]--
					s.skipped++
					return nil
				}
				return yield(p)
			},
			func(have map[uint64]int) error {
				for _, n := range have {
					stale += n
				}
				return nil
			})
	})
	if stale > 0 && round == 0 {
		// An earlier link of a chain, superseded by a resumed run's rows.
		s.res.Gaps = append(s.res.Gaps, schemas.GapRow{Item: schemas.GapSupersededPoints,
			Reason: fmt.Sprintf("%d metric points sent by an earlier sync are no longer in the archive (superseded by a later capture of the run, as after a resume); Comet cannot delete points, so the experiment keeps them beside the new values", stale)})
	}
	return err
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
