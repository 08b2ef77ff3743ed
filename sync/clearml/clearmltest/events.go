package clearmltest

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// eventIDFields make up the id of an event (event_bll.py event_id_fields),
// joined with "-" for those present.
var eventIDFields = []string{"task", "iter", "metric", "variant", "key"}

// eventID is the server's id: md5 of the id fields for everything but log
// events, which get random ids and never overwrite.
func eventID(raw map[string]any) string {
	if raw["type"] == "log" {
		return newID()
	}
	var parts []string
	for _, f := range eventIDFields {
		if v, ok := raw[f]; ok {
			parts = append(parts, fmt.Sprint(v))
		}
	}
	sum := md5.Sum([]byte(strings.Join(parts, "-")))
	return hex.EncodeToString(sum[:])
}

// plotCompressionThreshold is services.events.plot_compression_threshold:
// longer plot_str values are stored zlib-compressed in plot_data, and
// events.get_task_events returns them that way.
const plotCompressionThreshold = 100_000

// imgSourceRE finds image URLs in a plot (event_bll.py img_source_regex).
var imgSourceRE = regexp.MustCompile(`(?i)['"]source['"]:\s?['"]([a-z][a-z0-9+\-.]*://.*?)['"]`)

func (s *Server) eventsAddBatch(c *call) (any, *apiError) {
	if len(c.lines) == 0 {
		return nil, errf(400, 17, "Batch request contains no items")
	}
	return s.storeEvents(c, c.lines)
}

// eventsAdd is events.add: one event as a plain JSON body.
func (s *Server) eventsAdd(c *call) (any, *apiError) {
	return s.storeEvents(c, []map[string]any{c.body})
}

// storeEvents stores events as event_bll.py add_events does and answers
// {added, errors, errors_info}, or 400/131 when none could be added.
func (s *Server) storeEvents(c *call, objs []map[string]any) (any, *apiError) {
	now := s.now()
	added, nerr := 0, 0
	info := map[string]any{}
	fail := func(reason string) {
		nerr++
		n, _ := info[reason].(int)
		info[reason] = n + 1
	}
	for _, o := range objs {
		raw := plainMap(o)
		allowLocked := gBool(raw, "allow_locked")
		delete(raw, "allow_locked")
		delete(raw, "x_axis_label")
		e := &Event{Type: gStr(raw, "type"), Task: gStr(raw, "task"), ModelEvent: gBool(raw, "model_event")}
		raw["model_event"] = e.ModelEvent
		if e.ModelEvent {
			if m := s.model(e.Task); m == nil || (m.Ready && !allowLocked) {
				fail("Invalid model id " + e.Task)
				continue
			}
			if e.Type == "log" {
				fail("Task log events are not supported for models")
				continue
			}
		} else if t := s.task(e.Task); t == nil || (t.Status == StatusPublished && !allowLocked) {
			fail("Invalid task id " + e.Task)
			continue
		}
		raw["@timestamp"] = isoTime(now)
		if !has(raw, "timestamp") {
			raw["timestamp"] = now.UnixMilli()
		}
		if !has(raw, "worker") && c.worker != "" {
			raw["worker"] = c.worker
		}
		if v, ok := raw["values"]; ok {
			raw["value"] = v
			delete(raw, "values")
		}
		raw["metric"], raw["variant"] = gStr(raw, "metric"), gStr(raw, "variant")
		ts, _ := toFloat(raw["timestamp"])
		e.Timestamp = int64(ts)
		e.Iter, e.hasIter = gInt(raw, "iter", 0), has(raw, "iter")
		e.Metric, e.Variant = gStr(raw, "metric"), gStr(raw, "variant")
		e.Value, _ = toFloat(raw["value"])
		e.Key, e.URL, e.PlotStr = gStr(raw, "key"), gStr(raw, "url"), gStr(raw, "plot_str")
		e.Level, e.Msg, e.Worker = gStr(raw, "level"), gStr(raw, "msg"), gStr(raw, "worker")
		e.ID = eventID(raw)
		if e.Type == "plot" {
			storePlot(raw)
		}
		e.Raw = raw
		s.seq++
		e.seq = s.seq
		if s.events[e.Task] == nil {
			s.events[e.Task] = map[string]*Event{}
		}
		s.events[e.Task][e.ID] = e
		s.writes[e.Task]++
		added++
		if e.ModelEvent {
			if m := s.model(e.Task); e.hasIter && e.Iter > m.Iteration {
				m.Iteration = e.Iter
			}
			continue
		}
		t := s.task(e.Task)
		if e.hasIter && e.Iter > t.LastIteration {
			t.LastIteration = e.Iter
		}
		t.LastUpdate = now
	}
	if added == 0 {
		return nil, &apiError{code: 400, subcode: 131, msg: fmt.Sprintf("Events not added (%d errors)", nerr), data: info}
	}
	return map[string]any{"added": added, "errors": nerr, "errors_info": info}, nil
}

// storePlot adds what the server stores with a plot: its length, the
// image URLs it shows and, from plotCompressionThreshold characters, the
// figure compressed into plot_data instead of plot_str.
func storePlot(raw map[string]any) {
	p := gStr(raw, "plot_str")
	raw["plot_len"] = int64(len(p))
	if p == "" {
		return
	}
	var urls []any
	seen := map[string]bool{}
	for _, m := range imgSourceRE.FindAllStringSubmatch(p, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			urls = append(urls, m[1])
		}
	}
	if urls != nil {
		raw["source_urls"] = urls
	}
	if len(p) >= plotCompressionThreshold {
		var b bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&b, 1)
		_, _ = zw.Write([]byte(p))
		_ = zw.Close()
		raw["plot_data"] = encodeBytes(b.Bytes())
		delete(raw, "plot_str")
	}
}

// encodeBytes is Python's base64.encodebytes: lines of 76 characters, each
// ending in a newline.
func encodeBytes(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 76 {
		sb.WriteString(enc[:76])
		sb.WriteByte('\n')
		enc = enc[76:]
	}
	if enc != "" {
		sb.WriteString(enc)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// iterOf returns an event's iteration, if it has one (log events do not).
func iterOf(e *Event) (int64, bool) { return e.Iter, e.hasIter }

// pageEvents returns the next page of list (sorted by key): up to batch
// events after the key value from (all of them when from is 0 or unset:
// the server only continues from a truthy value), plus the rest of the
// events that share the page's last key value, so that none is lost
// between pages (events_iterator.py _get_events).
func pageEvents(list []*Event, key func(*Event) (int64, bool), from *int64, desc bool, batch int) []*Event {
	start := 0
	if from != nil && *from != 0 {
		start = len(list)
		for i, e := range list {
			v, ok := key(e)
			if !ok || (!desc && v > *from) || (desc && v < *from) {
				start = i
				break
			}
		}
	}
	rest := list[start:]
	if len(rest) == 0 {
		return nil
	}
	page := append([]*Event{}, rest[:min(batch, len(rest))]...)
	last, ok := key(page[len(page)-1])
	if !ok {
		return page
	}
	in := map[*Event]bool{}
	for _, e := range page {
		in[e] = true
	}
	more := 0
	for _, e := range list {
		if v, ok := key(e); ok && v == last && !in[e] && more < 10_000 {
			page = append(page, e)
			more++
		}
	}
	return page
}

// keyString is the scroll's from_key_value: the last key of a page, as a
// string (null for an empty page).
func keyString(page []*Event, key func(*Event) (int64, bool)) (any, *apiError) {
	if len(page) == 0 {
		return nil, nil
	}
	v, ok := key(page[len(page)-1])
	if !ok {
		// The real server reads the field unconditionally: a page that
		// ends with an event without it (a log event has no iter)
		// fails with KeyError.
		return nil, errf(500, 0, "'iter'")
	}
	return strconv.FormatInt(v, 10), nil
}
