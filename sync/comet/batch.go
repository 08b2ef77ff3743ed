package comet

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// params logs every parameter, one request each (the REST API has no
// batch); overwrites, so safe to repeat.
func (s *session) params(ctx context.Context) error {
	if s.st.Has("params") {
		return nil
	}
	var kvs []KV
	for _, c := range s.log.Calls {
		kvs = append(kvs, c.Params...)
	}
	s.task.Stage("parameters", int64(len(kvs)))
	err := s.parallel(ctx, len(kvs), func(ctx context.Context, i int) error {
		v := paramJSON(kvs[i].Value)
		if list, ok := v.([]any); ok {
			b, _ := json.Marshal(list)
			v = string(b)
		}
		return s.post(ctx, "write/experiment/parameter", map[string]any{"experimentKey": s.key,
			"parameterName": kvs[i].Key, "parameterValue": v, "timestamp": s.log.Start.UnixMilli()}, nil)
	})
	if err != nil {
		return err
	}
	return s.st.Mark("params")
}

// metrics sends the points the server lacks: Comet keeps every point it
// receives, so a resumed sync first reads back what arrived (the callback
// itself logs some points twice; those are counted, not deduplicated).
func (s *session) metrics(ctx context.Context) error {
	if s.st.Has("metrics") {
		return nil
	}
	return repair(ctx, s.sendMetrics)
}

func (s *session) sendMetrics(ctx context.Context, round int) error {
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
		s.res.Gaps = append(s.res.Gaps, schemas.GapRow{Item: "superseded_points", Affects: []string{"comet"},
			Reason: fmt.Sprintf("%d metric points sent by an earlier sync are no longer in the archive (superseded by a later capture of the run, as after a resume); Comet cannot delete points, so the experiment keeps them beside the new values", stale)})
	}
	if err := s.st.Mark("metrics-started"); err != nil {
		return err
	}
	s.task.Stage("metrics", int64(len(todo)))
	err := s.parallel(ctx, len(todo), func(ctx context.Context, i int) error {
		p := todo[i]
		body := map[string]any{"experimentKey": s.key, "metricName": p.name, "metricValue": metricJSON(p.value), "timestamp": p.at}
		if p.step != nil {
			body["step"] = *p.step
		}
		if p.epoch != nil {
			body["epoch"] = *p.epoch
		}
		// A point whose answer was lost may have been stored: it is
		// found by the read-back, which fails and makes the next run
		// resend only what is missing.
		return s.post(ysync.NotIdempotent(ctx), "write/experiment/metric", body, nil)
	})
	if err != nil {
		return err
	}
	return s.st.Mark("metrics")
}
