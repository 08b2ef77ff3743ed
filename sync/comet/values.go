package comet

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// point is one metric point.
type point struct {
	name        string
	value       float64
	step, epoch *int64
	at          int64
}

func (p point) id() string {
	return fmt.Sprintf("%s|%s|%s|%s", p.name, optStr(p.step), optStr(p.epoch), valueKey(p.value))
}

func optStr(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func valueKey(v float64) string {
	s, _ := metricJSON(v).(string)
	if s != "" {
		return s
	}
	return strconv.FormatFloat(v, 'g', 12, 64)
}

func (s *session) points() []point {
	var out []point
	for _, c := range s.log.Calls {
		for _, m := range c.Metrics {
			out = append(out, point{m.Name, m.Value, c.Step, c.Epoch, c.Time.UnixMilli()})
		}
	}
	return out
}

// serverPoints counts the points the experiment already holds.
func (s *session) serverPoints(ctx context.Context) (map[string]int, error) {
	var all struct {
		Metrics []struct {
			MetricName  string `json:"metricName"`
			MetricValue any    `json:"metricValue"`
			Step        *int64 `json:"step"`
			Epoch       *int64 `json:"epoch"`
		} `json:"metrics"`
	}
	if err := s.get(ctx, "experiment/metrics/get-all", url.Values{"experimentKey": {s.key}}, &all); err != nil {
		return nil, err
	}
	have := map[string]int{}
	for _, m := range all.Metrics {
		v, ok := parseValue(m.MetricValue)
		if !ok {
			continue
		}
		have[point{name: m.MetricName, value: v, step: m.Step, epoch: m.Epoch}.id()]++
	}
	return have, nil
}

func parseValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		switch x {
		case "NaN", "Infinity", "-Infinity":
		}
		f, err := strconv.ParseFloat(strings.Replace(x, "Infinity", "Inf", 1), 64)
		return f, err == nil
	}
	return 0, false
}
