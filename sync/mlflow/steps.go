package mlflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// step is one checkpointed unit of a sync: a log-batch of params or of
// metric points, or one artifact.
type step struct {
	name   string
	params []Param
	// batch is the index of a log-batch of metric points (see
	// Plan.batchesOf), -1 for other steps.
	batch int
	art   *Artifact
}

// entityBytes estimates an entity's share of a log-batch body.
func entityBytes(key, value string) int { return len(key) + len(value) + 64 }

// steps cuts the plan into requests within log-batch's limits: params
// (at most 100 a request), then metric points in logging order (at most
// 1,000: the plan's batches, generated as they are sent), then each
// artifact; each request under 900,000 bytes.
func (s *replay) steps() []step {
	var out []step
	cur := step{batch: -1}
	size := 0
	n := 0
	for _, p := range s.plan.Params {
		b := entityBytes(p.Key, p.Value)
		if len(cur.params) == maxBatchParams || size+b > maxBatchBytes {
			cur.name = fmt.Sprintf("params/%d", n)
			out = append(out, cur)
			cur, size = step{batch: -1}, 0
			n++
		}
		cur.params = append(cur.params, p)
		size += b
	}
	if len(cur.params) > 0 {
		cur.name = fmt.Sprintf("params/%d", n)
		out = append(out, cur)
	}
	for i := range s.plan.batches {
		out = append(out, step{name: fmt.Sprintf("metrics/%d", i), batch: i})
	}
	for i := range s.plan.Artifacts {
		a := &s.plan.Artifacts[i]
		out = append(out, step{name: "artifact/" + a.Path, art: a, batch: -1})
	}
	return out
}

// batch returns the plan's index-th log-batch of metric points, generated
// by a pull iterator that the steps, applied in order, advance a batch at
// a time (asking for an earlier batch starts it again). The points are
// valid until the next call.
func (s *replay) batch(ctx context.Context, index int) (metricBatch, error) {
	if s.next == nil || index < s.cursor {
		s.stopBatches()
		s.next, s.stop = iter.Pull2(s.plan.batchSeq(ctx))
		s.cursor = 0
	}
	for {
		b, err, ok := s.next()
		if !ok {
			return metricBatch{}, fmt.Errorf("mlflow: the plan has no metric batch %d (internal error, please report)", index)
		}
		if err != nil {
			s.stopBatches()
			return metricBatch{}, err
		}
		s.cursor = b.index + 1
		if b.index == index {
			return b, nil
		}
	}
}

// stopBatches ends the pull iterator of batch, if any.
func (s *replay) stopBatches() {
	if s.stop != nil {
		s.stop()
	}
	s.next, s.stop, s.cursor = nil, nil, 0
}

// skip consumes, for a metric batch the checkpoint has, its points from
// what the server holds.
func (s *replay) skip(ctx context.Context, st step) error {
	if st.batch < 0 {
		return nil
	}
	b, err := s.batch(ctx, st.batch)
	if err != nil {
		return err
	}
	_, err = s.missing(ctx, b.points)
	return err
}

// apply sends one step.
func (s *replay) apply(ctx context.Context, st step) error {
	id := s.remote.Info.RunID
	switch {
	case st.params != nil:
		ps := make([]keyValue, len(st.params))
		for i, p := range st.params {
			ps[i] = keyValue{p.Key, p.Value}
		}
		// The same value again is fine: params may be resent.
		return s.c.post(ctx, "runs/log-batch", map[string]any{"run_id": id, "params": ps}, nil)
	case st.batch >= 0:
		b, err := s.batch(ctx, st.batch)
		if err != nil {
			return err
		}
		ms, err := s.missing(ctx, b.points)
		if err != nil || len(ms) == 0 {
			return err
		}
		// Points are not idempotent (a server keeps both copies): a batch
		// is resent only after reading back which of its points arrived.
		err = s.logMetrics(ctx, id, ms)
		if err != nil && transient(err) {
			// Read back what arrived: the earlier batches' points first,
			// so that a point equal to one of theirs is not taken as
			// this batch's.
			s.have = nil
			if err = s.consume(ctx, b.before); err != nil {
				return err
			}
			if ms, err = s.missing(ctx, b.points); err == nil && len(ms) > 0 {
				err = s.logMetrics(ctx, id, ms)
			}
		}
		return err
	case st.art != nil:
		a := st.art
		var f io.ReadCloser
		defer func() {
			if f != nil {
				f.Close()
			}
		}()
		return s.c.put(ctx, s.artifactPath(a.Path), a.Size, func() (io.Reader, error) {
			if f != nil {
				f.Close()
			}
			var err error
			f, err = s.openBlob(ctx, a.Blob)
			return f, err
		})
	}
	return nil
}

// consume takes the plan's first n points from what the server holds, in
// a pass of their own.
func (s *replay) consume(ctx context.Context, n int) error {
	if n == 0 {
		return nil
	}
	err := s.plan.Points(ctx, func(ms []filestore.Metric) error {
		ms = ms[:min(n, len(ms))]
		n -= len(ms)
		if _, err := s.missing(ctx, ms); err != nil {
			return err
		}
		if n == 0 {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return err
}

func (s *replay) logMetrics(ctx context.Context, id string, ms []filestore.Metric) error {
	body := make([]map[string]any, len(ms))
	for i, m := range ms {
		body[i] = metricBody(m)
	}
	return s.c.post(notIdempotent(ctx), "runs/log-batch", map[string]any{"run_id": id, "metrics": body}, nil)
}

// serverPoints is what the server holds of the plan's metrics, to take
// the plan's points from: a metric whose history equals the plan's
// (by digest) is complete, one the server holds other points of has
// them as hashes in a bag, one it lacks has neither. It holds nothing
// for a fresh run or a run that has everything, and 9 bytes a point of
// the metrics the server holds in part.
type serverPoints struct {
	complete map[string]bool
	bags     map[string]*hashBag
}

// has takes m from what the server holds, if it holds it.
func (h *serverPoints) has(m filestore.Metric) bool {
	if h.complete[m.Key] {
		return true
	}
	b := h.bags[m.Key]
	return b != nil && b.take(pointHash(m))
}

// missing returns the points of ms the server does not hold, taking
// those it holds from s.have (read on first use).
func (s *replay) missing(ctx context.Context, ms []filestore.Metric) ([]filestore.Metric, error) {
	if s.have == nil {
		if err := s.readHistories(ctx); err != nil {
			return nil, err
		}
	}
	var out []filestore.Metric
	for _, m := range ms {
		if !s.have.has(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// readHistories reads every plan metric's whole history into s.have,
// metric by metric and page by page (a file store backend answers in one
// page and refuses a page_token: it is sent only when the server gave
// one). One metric's hashes are held while it is read; they are kept only
// when its digest differs from the plan's.
func (s *replay) readHistories(ctx context.Context) error {
	have := &serverPoints{complete: map[string]bool{}, bags: map[string]*hashBag{}}
	var hs []uint64
	for _, k := range s.plan.keys {
		key := k.key
		tok := ""
		var sum digest
		hs = hs[:0]
		for {
			q := url.Values{"run_id": {s.remote.Info.RunID}, "metric_key": {key}, "max_results": {fmt.Sprint(historyPage)}}
			if tok != "" {
				q.Set("page_token", tok)
			}
			var out struct {
				Metrics       []metricJSON `json:"metrics"`
				NextPageToken string       `json:"next_page_token"`
			}
			if err := s.c.get(ctx, "metrics/get-history", q, &out); err != nil {
				return err
			}
			for _, m := range out.Metrics {
				p := filestore.Metric{Key: key, Value: float64(m.Value), Timestamp: int64(m.Timestamp), Step: int64(m.Step)}
				sum.add(p)
				hs = append(hs, pointHash(p))
			}
			if out.NextPageToken == "" || out.NextPageToken == tok {
				break
			}
			tok = out.NextPageToken
		}
		switch {
		case sum == k.sum:
			have.complete[key] = true
		case len(hs) > 0:
			have.bags[key] = newHashBag(slices.Clone(hs))
		}
	}
	s.have = have
	return nil
}

// readBack compares the remote run with the plan: params, tags, every
// metric's whole history (as a multiset of points: none missing, none
// twice; by digest, then point by point for a metric that differs) and
// the artifacts' sizes. It returns what differs, as short phrases ("12
// of 40 scalars missing"); none means the run holds the plan. It leaves
// the histories read in s.have.
func (s *replay) readBack(ctx context.Context) ([]string, error) {
	r, err := s.getRun(ctx, s.remote.Info.RunID)
	if err != nil {
		return nil, err
	}
	s.remote = r
	var changes []string
	params := map[string]string{}
	for _, p := range r.Data.Params {
		params[p.Key] = p.Value
	}
	missingParams := 0
	for _, p := range s.plan.Params {
		if !sameValue(params[p.Key], p.Value, filestore.MaxParamValueLength) {
			if _, ok := params[p.Key]; ok {
				return nil, fmt.Errorf("mlflow: run %s holds param %q = %.80q, the archive %.80q: MLflow does not let a param change; sync with --force to make a new run", r.Info.RunID, p.Key, params[p.Key], p.Value)
			}
			missingParams++
		}
	}
	if missingParams > 0 {
		changes = append(changes, fmt.Sprintf("%d of %d params missing", missingParams, len(s.plan.Params)))
	}
	badTags := 0
	for _, t := range s.plan.Tags {
		if v, ok := r.tag(t.Key); !ok || !sameValue(v, t.Value, filestore.MaxTagValueLength) {
			badTags++
		}
	}
	if badTags > 0 {
		changes = append(changes, fmt.Sprintf("%d of %d tags missing or different", badTags, len(s.plan.Tags)))
	}
	if err := s.readHistories(ctx); err != nil {
		return nil, err
	}
	missing, extra, err := s.compareHistories(ctx)
	if err != nil {
		return nil, err
	}
	if missing > 0 {
		changes = append(changes, fmt.Sprintf("%d of %d scalars missing", missing, s.plan.Scalars))
	}
	if extra > 0 {
		changes = append(changes, fmt.Sprintf("%d scalars the archive lacks (sent twice, or logged by something else)", extra))
	}
	if len(s.plan.Artifacts) > 0 && s.proxied() {
		files, err := s.listArtifacts(ctx)
		if err != nil {
			return nil, err
		}
		bad := 0
		for _, a := range s.plan.Artifacts {
			if size, ok := files[a.Path]; !ok || size != a.Size {
				bad++
			}
		}
		if bad > 0 {
			changes = append(changes, fmt.Sprintf("%d of %d artifacts missing", bad, len(s.plan.Artifacts)))
		}
	}
	return changes, nil
}

// compareHistories counts the plan's points the server lacks and the
// server's points the plan lacks, from s.have as readHistories left it:
// a complete metric differs in nothing; a metric the server lacks lacks
// all the plan's points; the others are compared point by point, in one
// pass over the plan that takes each of their points from the metric's
// bag (put back after, for the steps that may follow).
func (s *replay) compareHistories(ctx context.Context) (missing, extra int, err error) {
	differ := map[string]bool{}
	for _, k := range s.plan.keys {
		switch {
		case s.have.complete[k.key]:
		case s.have.bags[k.key] == nil:
			missing += k.sum.n
		default:
			differ[k.key] = true
		}
	}
	if len(differ) == 0 {
		return missing, 0, nil
	}
	err = s.plan.Points(ctx, func(ms []filestore.Metric) error {
		for _, m := range ms {
			if differ[m.Key] && !s.have.bags[m.Key].take(pointHash(m)) {
				missing++
			}
		}
		return nil
	})
	for key := range differ {
		b := s.have.bags[key]
		extra += b.left()
		b.reset()
	}
	return missing, extra, err
}

// sameValue: the server holds v, or, where it truncates long values,
// their first limit characters.
func sameValue(got, want string, limit int) bool {
	if got == want {
		return true
	}
	return utf8.RuneCountInString(want) > limit && got == string([]rune(want)[:limit])
}

// listArtifacts lists the run's artifacts: the root, then each directory
// the plan's artifacts are in.
func (s *replay) listArtifacts(ctx context.Context) (map[string]int64, error) {
	dirs := map[string]bool{"": true}
	for _, a := range s.plan.Artifacts {
		for d := path.Dir(a.Path); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	files := map[string]int64{}
	for _, d := range names {
		q := url.Values{"run_id": {s.remote.Info.RunID}}
		if d != "" {
			q.Set("path", d)
		}
		var out struct {
			Files []fileJSON `json:"files"`
		}
		if err := s.c.get(ctx, "artifacts/list", q, &out); err != nil {
			return nil, err
		}
		for _, f := range out.Files {
			if !f.IsDir {
				files[strings.TrimPrefix(f.Path, "/")] = int64(f.FileSize)
			}
		}
	}
	return files, nil
}
