package clearmltest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"sort"
	"strconv"
	"strings"
)

// eventID is the server's id: md5("task-iter-metric-variant[-key]") for
// scalars, debug images and plots; random for everything else.
func eventID(e *Event) string {
	switch e.Type {
	case "training_stats_scalar", "training_debug_image", "plot":
		parts := []string{e.Task, strconv.FormatInt(e.Iter, 10), e.Metric, e.Variant}
		if e.Key != "" {
			parts = append(parts, e.Key)
		}
		sum := md5.Sum([]byte(strings.Join(parts, "-")))
		return hex.EncodeToString(sum[:])
	}
	return newID()
}

func (s *Server) eventsAddBatch(c *call) (any, *apiError) {
	ct := c.r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/json-lines" {
		return nil, validationErr("events.add_batch expects Content-Type application/json-lines, got %q", ct)
	}
	var objs []map[string]any
	for i, line := range bytes.Split(c.raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := decodeJSON(line)
		if err != nil {
			return nil, validationErr("line %d: invalid JSON: %v", i+1, err)
		}
		o, ok := v.(map[string]any)
		if !ok {
			return nil, validationErr("line %d: expected a JSON object per line, got %s", i+1, jsonTypeName(v))
		}
		dropNulls(o)
		if verr := validateObject("", o, eventSchema); verr != nil {
			verr.msg = strings.TrimSuffix(verr.msg, ")") + fmt.Sprintf(" in event %d)", len(objs))
			return nil, verr
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		return nil, errf(400, 17, "Batch request contains no items")
	}
	return s.storeEvents(c, objs)
}

// eventsAdd is events.add: one event as a plain JSON body.
func (s *Server) eventsAdd(c *call) (any, *apiError) {
	return s.storeEvents(c, []map[string]any{c.body})
}

// storeEvents stores validated events and answers {added, errors,
// errors_info}, or 400/131 when none could be added.
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
		e := &Event{Type: gStr(o, "type"), Task: gStr(o, "task"), ModelEvent: gBool(o, "model_event")}
		if e.ModelEvent {
			m := s.model(e.Task)
			if m == nil {
				fail("Invalid model id")
				continue
			}
			if m.Ready && !gBool(o, "allow_locked") {
				fail("Model is ready")
				continue
			}
		} else {
			t := s.task(e.Task)
			if t == nil {
				fail("Invalid task id")
				continue
			}
			if t.Status == StatusPublished && !gBool(o, "allow_locked") {
				fail("Invalid task id (task is published)")
				continue
			}
		}
		if !has(o, "timestamp") {
			raw["timestamp"] = now.UnixMilli()
		}
		ts, _ := toFloat(raw["timestamp"])
		e.Timestamp = int64(ts)
		e.Iter = gInt(o, "iter", 0)
		raw["iter"] = e.Iter
		e.Metric, e.Variant = gStr(o, "metric"), gStr(o, "variant")
		if e.Type != "log" {
			raw["metric"], raw["variant"] = e.Metric, e.Variant
		}
		e.Value, _ = toFloat(o["value"])
		e.Key, e.URL, e.PlotStr = gStr(o, "key"), gStr(o, "url"), gStr(o, "plot_str")
		e.Level, e.Msg, e.Worker = gStr(o, "level"), gStr(o, "msg"), gStr(o, "worker")
		if e.Worker == "" && c.worker != "" {
			e.Worker = c.worker
			raw["worker"] = c.worker
		}
		e.Raw = raw
		e.ID = eventID(e)
		s.seq++
		e.seq = s.seq
		if s.events[e.Task] == nil {
			s.events[e.Task] = map[string]*Event{}
		}
		s.events[e.Task][e.ID] = e
		s.writes[e.Task]++
		added++
		if !e.ModelEvent {
			t := s.task(e.Task)
			if e.Iter != minIter && e.Iter > t.LastIteration {
				t.LastIteration = e.Iter
			}
			t.LastUpdate = now
		} else if m := s.model(e.Task); m != nil {
			if e.Iter != minIter && e.Iter > m.Iteration {
				m.Iteration = e.Iter
			}
		}
	}
	if added == 0 && nerr > 0 {
		return nil, &apiError{code: 400, subcode: 131, msg: fmt.Sprintf("Events not added (%d errors)", nerr),
			data: map[string]any{"added": 0, "errors": nerr, "errors_info": info}}
	}
	return map[string]any{"added": added, "errors": nerr, "errors_info": info}, nil
}

func encodeScroll(snap string, off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(snap + ":" + strconv.Itoa(off)))
}

func decodeScroll(id string) (string, int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", 0, false
	}
	snap, offs, ok := strings.Cut(string(b), ":")
	off, err := strconv.Atoi(offs)
	if !ok || err != nil || off < 0 {
		return "", 0, false
	}
	return snap, off, true
}

func (s *Server) eventsGetTaskEvents(c *call) (any, *apiError) {
	b := c.body
	id := gStr(b, "task")
	if gBool(b, "model_events") {
		if s.model(id) == nil {
			return nil, invalidModel(id)
		}
	} else if s.task(id) == nil {
		return nil, taskNotFound(id)
	}
	batch := int(gInt(b, "batch_size", 500))
	if batch <= 0 {
		batch = 500
	}
	var list []Event
	var snap string
	off := 0
	if sid := gStr(b, "scroll_id"); sid != "" {
		var ok bool
		snap, off, ok = decodeScroll(sid)
		if ok {
			list, ok = s.scrolls[snap]
		}
		if !ok {
			return nil, validationErr("Invalid scroll id %q", sid)
		}
	} else {
		list = s.selectEvents(id, b)
		s.scrollSeq++
		snap = strconv.Itoa(s.scrollSeq) + "-" + newID()[:8]
		s.scrolls[snap] = list
	}
	start := min(off, len(list))
	end := min(start+batch, len(list))
	out := make([]any, 0, end-start)
	for _, e := range list[start:end] {
		out = append(out, deepCopyMap(e.Raw))
	}
	return map[string]any{
		"events":    out,
		"returned":  len(out),
		"total":     len(list),
		"scroll_id": encodeScroll(snap, end),
	}, nil
}

// selectEvents returns the events of a task matching the request filters,
// sorted by timestamp (then arrival) in the requested order.
func (s *Server) selectEvents(id string, b map[string]any) []Event {
	et := gStr(b, "event_type")
	type mf struct{ variants []string }
	var filter map[string]mf
	if ms, ok := b["metrics"].([]any); ok && len(ms) > 0 {
		filter = map[string]mf{}
		for _, m := range ms {
			o := m.(map[string]any)
			filter[gStr(o, "metric")] = mf{variants: gStrs(o, "variants")}
		}
	}
	var list []Event
	for _, e := range s.events[id] {
		if e.ModelEvent != gBool(b, "model_events") {
			continue
		}
		if et != "" && e.Type != et {
			continue
		}
		if filter != nil {
			f, ok := filter[e.Metric]
			if !ok || !inList(e.Variant, f.variants) {
				continue
			}
		}
		list = append(list, e.clone())
	}
	desc := gStr(b, "order") == "desc" || (!has(b, "order") && gBool(b, "navigate_earlier"))
	sort.Slice(list, func(i, j int) bool {
		a, c := list[i], list[j]
		if a.Timestamp != c.Timestamp {
			return (a.Timestamp < c.Timestamp) != desc
		}
		return (a.seq < c.seq) != desc
	})
	return list
}
