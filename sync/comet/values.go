package comet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The values a REST replay sends many of: metric points, parameters and
// console lines, listed once from the Log. Each is rendered both as a value
// of the batch endpoint `comet upload` sends it to (comet-api.md §5.9) and
// as the body of the REST endpoint that takes it one request each, for a
// server without the batch endpoint: one plan, two ways of sending it.

// point is one metric point.
type point struct {
	name        string
	value       float64
	step, epoch *int64
	context     string
	at          int64
}

// id is what the read-back compares: name, step, epoch, context, value.
func (p point) id() string {
	return fmt.Sprintf("%s|%s|%s|%s|%s", p.name, optStr(p.step), optStr(p.epoch), p.context, valueKey(p.value))
}

// metricItem is a point as a value of batch/logger/experiment/metric,
// as the SDK's MetricMessage.repr_json_batch writes it: every key, null
// where unset, NaN and the infinities as strings, floats as Python writes
// them (3.0, not 3).
type metricItem struct {
	Name      string  `json:"metricName"`
	Value     any     `json:"metricValue"`
	Step      *int64  `json:"step"`
	Epoch     *int64  `json:"epoch"`
	Context   *string `json:"context"`
	Timestamp int64   `json:"timestamp"`
}

// metricBody is a point as the body of write/experiment/metric.
type metricBody struct {
	ExperimentKey string `json:"experimentKey"`
	metricItem
}

func (p point) item() metricItem {
	return metricItem{Name: p.name, Value: metricJSON(p.value), Step: p.step, Epoch: p.epoch, Context: strPtr(p.context), Timestamp: p.at}
}

func (p point) body(key string) any { return metricBody{key, p.item()} }

// eachPoint calls fn with the Log's metric points, in call order, as the
// Log generates them (see Log.each): never all at once.
func (s *replay) eachPoint(ctx context.Context, fn func(p point) error) error {
	return s.log.each(ctx, func(_ int, c Call) error {
		for _, m := range c.Metrics {
			if err := fn(point{m.Name, m.Value, c.Step, c.Epoch, c.Context, c.Time.UnixMilli()}); err != nil {
				return err
			}
		}
		return nil
	})
}

// param is one parameter: its value ready for JSON (a list as its JSON
// text, which is how the REST endpoint takes it and the read-back gives
// it), logged at its call's time.
type param struct {
	name    string
	value   any
	context string
	at      int64
}

// paramItem is a parameter as a value of
// batch/logger/experiment/parameter, as ParameterMessage.repr_json_batch
// writes it (source "manual": the callback's log_parameters).
type paramItem struct {
	Name      string  `json:"parameterName"`
	Value     any     `json:"parameterValue"`
	Step      *int64  `json:"step"`
	Source    string  `json:"source"`
	Context   *string `json:"context"`
	Timestamp int64   `json:"timestamp"`
}

// paramBody is a parameter as the body of write/experiment/parameter,
// which has no source and takes no null context.
type paramBody struct {
	ExperimentKey string `json:"experimentKey"`
	Name          string `json:"parameterName"`
	Value         any    `json:"parameterValue"`
	Context       string `json:"context,omitempty"`
	Timestamp     int64  `json:"timestamp"`
}

func (p param) item() paramItem {
	return paramItem{Name: p.name, Value: p.value, Source: "manual", Context: strPtr(p.context), Timestamp: p.at}
}

func (p param) body(key string) any {
	return paramBody{ExperimentKey: key, Name: p.name, Value: p.value, Context: p.context, Timestamp: p.at}
}

// params lists the Log's parameters, one per name and context with the
// last value logged, in the order of their first call, as the SDK's
// uploader sends them (its batch is keyed by context and name, the last
// value wins).
func (s *replay) params() []param {
	var out []param
	at := map[string]int{}
	for _, c := range s.log.Calls {
		for _, kv := range c.Params {
			v := paramJSON(kv.Value)
			if list, ok := v.([]any); ok {
				b, _ := json.Marshal(list)
				v = string(b)
			}
			p := param{kv.Key, v, c.Context, c.Time.UnixMilli()}
			k := c.Context + "\x00" + kv.Key
			if i, ok := at[k]; ok {
				out[i] = p
				continue
			}
			at[k] = len(out)
			out = append(out, p)
		}
	}
	return out
}

// line is one console line of a captured session (stdout or stderr).
type line struct {
	text   string
	stderr bool
	at     int64
}

// outputLine is a line of a write/experiment/output body, as the SDK's
// format_stdout_message_batch_items writes it; offset is the line's
// number in the run's console (1-based).
type outputLine struct {
	Output         string `json:"output"`
	Stderr         bool   `json:"stderr"`
	LocalTimestamp int64  `json:"localTimestamp"`
	Offset         int    `json:"offset"`
}

// lines lists the Log's console output, in order.
func (s *replay) lines() []line {
	var out []line
	for _, c := range s.log.Calls {
		if c.Kind == KindOutput {
			out = append(out, line{c.Output, c.Stderr, c.Time.UnixMilli()})
		}
	}
	return out
}

// arrived counts the leading lines that the experiment's console text
// already holds, in order: where an interrupted write stopped. The
// server keeps the lines' texts as written, one after the other (the SDK
// sends print's text and its newline as two lines), so each line is
// looked for right after the previous one. A blank line at the end of the
// count is not counted (it matches anywhere), nor is anything after a
// line that is not found: a server that changed the text gets it all
// again.
func arrived(lines []line, text string) int {
	n, pos := 0, 0
	for _, l := range lines {
		if !strings.HasPrefix(text[pos:], l.text) {
			break
		}
		pos += len(l.text)
		n++
	}
	for n > 0 && strings.TrimSpace(lines[n-1].text) == "" {
		n--
	}
	return n
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
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

// serverParams lists the names of the parameters the experiment holds.
func (s *replay) serverParams(ctx context.Context) (map[string]bool, error) {
	var params struct {
		Values []struct {
			Name string `json:"name"`
		} `json:"values"`
	}
	if err := s.get(ctx, "experiment/parameters", url.Values{"experimentKey": {s.key}}, &params); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, v := range params.Values {
		seen[v.Name] = true
	}
	return seen, nil
}

func parseValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.Replace(x, "Infinity", "Inf", 1), 64)
		return f, err == nil
	}
	return 0, false
}
