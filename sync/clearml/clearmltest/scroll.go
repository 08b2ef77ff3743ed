package clearmltest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// maxTotal caps the total the event reads report (the schemas: "In case
// there are more than 10000 results it is set to 10000").
const maxTotal = 10_000

// eventTypes are the server's EventType values.
var eventTypes = []string{"training_stats_scalar", "training_stats_vector", "training_debug_image", "plot", "log"}

// maxPage caps a page (Elasticsearch's default max_result_window).
const maxPage = 10_000

// eventsScroll is the state a get_task_events scroll id carries, as the
// server's GetTaskEventsScroll: the key value to continue after (null once
// a page came back empty), the total and the first request.
type eventsScroll struct {
	From        *string `json:"from_key_value"`
	Total       int     `json:"total"`
	Task        string  `json:"task"`
	EventType   string  `json:"event_type,omitempty"`
	Order       string  `json:"order,omitempty"`
	ModelEvents bool    `json:"model_events,omitempty"`
}

// scrollID signs the state (the server signs a JWT), so that a made-up or
// altered id is refused.
func (s *Server) scrollID(st eventsScroll) string {
	payload, _ := json.Marshal(st)
	p := b64url.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.signKey)
	mac.Write([]byte(p))
	return p + "." + b64url.EncodeToString(mac.Sum(nil))
}

func (s *Server) parseScroll(id string) (eventsScroll, bool) {
	var st eventsScroll
	p, sig, ok := strings.Cut(id, ".")
	if !ok {
		return st, false
	}
	mac := hmac.New(sha256.New, s.signKey)
	mac.Write([]byte(p))
	want := b64url.EncodeToString(mac.Sum(nil))
	payload, err := b64url.DecodeString(p)
	if !hmac.Equal([]byte(sig), []byte(want)) || err != nil || json.Unmarshal(payload, &st) != nil {
		return st, false
	}
	return st, true
}

// eventsGetTaskEvents is events.get_task_events as the server implements it
// (services/events.py): events ordered by iteration (ascending unless
// order is desc; events without one last), one page per call of
// batch_size (default 500) plus the rest of the page's last iteration, a
// scroll_id for the next page, and empty pages once all were read. The
// scroll continues after the last iteration of the previous page, except
// after iteration 0, where it starts over (the server only continues from
// a truthy value). A page that ends with an event without an iteration (a
// log event) fails with 500, as on the server.
func (s *Server) eventsGetTaskEvents(c *call) (any, *apiError) {
	b := c.body
	id := gStr(b, "task")
	if gBool(b, "model_events") {
		if s.model(id) == nil {
			return nil, invalidModel(id)
		}
	} else if s.task(id) == nil {
		return nil, invalidTask(id)
	}
	if et := gStr(b, "event_type"); et != "" && !inList(et, eventTypes) {
		return nil, validationErr("event_type: value must be one of %s", strings.Join(eventTypes, ", "))
	}
	st := eventsScroll{Task: id, EventType: gStr(b, "event_type"), Order: gStr(b, "order"), ModelEvents: gBool(b, "model_events")}
	var from *int64
	fresh := true
	if sid := gStr(b, "scroll_id"); sid != "" {
		var ok bool
		if st, ok = s.parseScroll(sid); !ok {
			return nil, &apiError{code: 400, subcode: 1104, msg: "Invalid scroll id", data: map[string]any{"scroll_id": sid}}
		}
		if st.From == nil {
			return map[string]any{"events": []any{}, "returned": 0, "total": st.Total, "scroll_id": sid}, nil
		}
		v, err := strconv.ParseInt(*st.From, 10, 64)
		if err != nil {
			return nil, errf(500, 0, "invalid literal for int() with base 10: '%s'", *st.From)
		}
		from, fresh = &v, false
	}
	desc := st.Order == "desc"
	list := s.eventList(st.Task, st.EventType, st.ModelEvents, desc)
	if fresh {
		st.Total = min(len(list), maxTotal)
	}
	batch := int(gInt(b, "batch_size", 500))
	if batch <= 0 {
		batch = 500
	}
	page := pageEvents(list, iterOf, from, desc, min(batch, maxPage))
	next, aerr := keyString(page, iterOf)
	if aerr != nil {
		return nil, aerr
	}
	if next != nil {
		n := next.(string)
		st.From = &n
	} else {
		st.From = nil
	}
	return map[string]any{"events": rawEvents(page), "returned": len(page), "total": st.Total, "scroll_id": s.scrollID(st)}, nil
}

// eventsGetTaskLog is events.get_task_log from API 2.9: log events by
// timestamp, latest first unless navigate_earlier is false, batch_size
// (default 5000) per call plus the rest of the last timestamp; the next
// call passes the last timestamp seen as from_timestamp. order reverses a
// page. total is capped at 10,000.
func (s *Server) eventsGetTaskLog(c *call) (any, *apiError) {
	b := c.body
	id := gStr(b, "task")
	if s.task(id) == nil {
		return nil, invalidTask(id)
	}
	earlier := !has(b, "navigate_earlier") || gBool(b, "navigate_earlier")
	list := s.eventList(id, "log", false, earlier)
	var from *int64
	if has(b, "from_timestamp") {
		v := gInt(b, "from_timestamp", 0)
		from = &v
	}
	batch := int(gInt(b, "batch_size", 5000))
	if batch <= 0 {
		batch = 5000
	}
	ts := func(e *Event) (int64, bool) { return e.Timestamp, true }
	page := pageEvents(list, ts, from, earlier, min(batch, maxPage))
	if o := gStr(b, "order"); (earlier && o == "asc") || (!earlier && o == "desc") {
		for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
			page[i], page[j] = page[j], page[i]
		}
	}
	return map[string]any{"events": rawEvents(page), "returned": len(page), "total": min(len(list), maxTotal)}, nil
}

// eventList returns the events of a task (or model) of one type ("" for
// all), sorted by iteration for metric reads or by timestamp for the log
// (events without an iteration last in either order), ties in arrival
// order.
func (s *Server) eventList(id, eventType string, modelEvents, desc bool) []*Event {
	var list []*Event
	for _, e := range s.events[id] {
		if e.ModelEvent == modelEvents && (eventType == "" || e.Type == eventType) {
			list = append(list, e)
		}
	}
	byTime := eventType == "log"
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		var ka, kb int64
		var oka, okb bool
		if byTime {
			ka, kb, oka, okb = a.Timestamp, b.Timestamp, true, true
		} else {
			ka, oka = iterOf(a)
			kb, okb = iterOf(b)
		}
		switch {
		case oka != okb:
			return oka
		case ka != kb:
			return (ka < kb) != desc
		}
		return a.seq < b.seq
	})
	return list
}

func rawEvents(page []*Event) []any {
	out := make([]any, len(page))
	for i, e := range page {
		out[i] = deepCopyMap(e.Raw)
	}
	return out
}
