package mlflow

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// step is one checkpointed unit of a sync: a log-batch of params or of
// metric points, or one artifact.
type step struct {
	name    string
	params  []Param
	metrics []filestore.Metric
	// before is how many of the plan's points come before metrics.
	before int
	art    *Artifact
	// skip runs for a step the checkpoint has: a metric batch still
	// consumes its points from what the server holds.
	skip func(ctx context.Context) error
}

// entityBytes estimates an entity's share of a log-batch body.
func entityBytes(key, value string) int { return len(key) + len(value) + 64 }

// steps cuts the plan into requests within log-batch's limits: params
// (at most 100 a request), then metric points in logging order (at most
// 1,000), then each artifact; each request under 900,000 bytes.
func (s *replay) steps() []step {
	var out []step
	var cur step
	size := 0
	flush := func(kind string, n int) {
		if len(cur.params)+len(cur.metrics) > 0 {
			cur.name = fmt.Sprintf("%s/%d", kind, n)
			out = append(out, cur)
		}
		cur, size = step{}, 0
	}
	n := 0
	for _, p := range s.plan.Params {
		b := entityBytes(p.Key, p.Value)
		if len(cur.params) == maxBatchParams || size+b > maxBatchBytes {
			flush("params", n)
			n++
		}
		cur.params = append(cur.params, p)
		size += b
	}
	flush("params", n)
	n = 0
	for i, m := range s.plan.Metrics {
		b := entityBytes(m.Key, "") + 40
		if len(cur.metrics) == maxBatchMetrics || size+b > maxBatchBytes {
			flush("metrics", n)
			n++
		}
		if cur.metrics == nil {
			cur.before = i
		}
		cur.metrics = append(cur.metrics, m)
		size += b
	}
	flush("metrics", n)
	for i := range out {
		if ms := out[i].metrics; ms != nil {
			out[i].skip = func(ctx context.Context) error { _, err := s.missing(ctx, ms); return err }
		}
	}
	for i := range s.plan.Artifacts {
		a := &s.plan.Artifacts[i]
		out = append(out, step{name: "artifact/" + a.Path, art: a})
	}
	return out
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
	case st.metrics != nil:
		ms, err := s.missing(ctx, st.metrics)
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
			if _, err = s.missing(ctx, s.plan.Metrics[:st.before]); err != nil {
				return err
			}
			if ms, err = s.missing(ctx, st.metrics); err == nil && len(ms) > 0 {
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

func (s *replay) logMetrics(ctx context.Context, id string, ms []filestore.Metric) error {
	body := make([]map[string]any, len(ms))
	for i, m := range ms {
		body[i] = metricBody(m)
	}
	return s.c.post(notIdempotent(ctx), "runs/log-batch", map[string]any{"run_id": id, "metrics": body}, nil)
}

// missing returns the points of ms the server does not hold, consuming
// those it holds from s.have (read on first use).
func (s *replay) missing(ctx context.Context, ms []filestore.Metric) ([]filestore.Metric, error) {
	if s.have == nil {
		if err := s.readHistories(ctx); err != nil {
			return nil, err
		}
	}
	var out []filestore.Metric
	for _, m := range ms {
		k := pointOf(m)
		if s.have[k] > 0 {
			s.have[k]--
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// metricKeys are the plan's metric names, in first-logged order.
func (s *replay) metricKeys() []string {
	var keys []string
	seen := map[string]bool{}
	for _, m := range s.plan.Metrics {
		if !seen[m.Key] {
			seen[m.Key] = true
			keys = append(keys, m.Key)
		}
	}
	return keys
}

// readHistories reads every plan metric's whole history into s.have,
// page by page (a file store backend answers in one page and refuses a
// page_token: it is sent only when the server gave one).
func (s *replay) readHistories(ctx context.Context) error {
	have := map[point]int{}
	for _, key := range s.metricKeys() {
		tok := ""
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
				have[pointOf(filestore.Metric{Key: m.Key, Value: float64(m.Value), Timestamp: int64(m.Timestamp), Step: int64(m.Step)})]++
			}
			if out.NextPageToken == "" || out.NextPageToken == tok {
				break
			}
			tok = out.NextPageToken
		}
	}
	s.have = have
	return nil
}

// readBack compares the remote run with the plan: params, tags, every
// metric's whole history (as a multiset of points: none missing, none
// twice) and the artifacts' sizes. It returns what differs, as short
// phrases ("12 of 40 scalars missing"); none means the run holds the
// plan. It leaves the histories read in s.have.
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
	left := make(map[point]int, len(s.have))
	for k, v := range s.have {
		left[k] = v
	}
	missing := 0
	for _, m := range s.plan.Metrics {
		k := pointOf(m)
		if left[k] > 0 {
			left[k]--
			continue
		}
		missing++
	}
	extra := 0
	for _, v := range left {
		extra += v
	}
	if missing > 0 {
		changes = append(changes, fmt.Sprintf("%d of %d scalars missing", missing, len(s.plan.Metrics)))
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
