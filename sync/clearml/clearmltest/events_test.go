package clearmltest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

func scalar(task string, iter int64, metric, variant string, v float64) map[string]any {
	return map[string]any{"type": "training_stats_scalar", "task": task, "timestamp": 1714557600000 + iter,
		"iter": iter, "metric": metric, "variant": variant, "value": v}
}

func TestEventsAddBatch(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")

	lines := []string{
		jsonLine(t, scalar(id, 0, "train", "train/box_loss", 1.5)),
		jsonLine(t, scalar(id, 1, "train", "train/box_loss", 1.2)),
		jsonLine(t, scalar(id, minIter, "Summary", "metrics/mAP50(B)", 0.6)),
		jsonLine(t, map[string]any{"type": "training_debug_image", "task": id, "timestamp": 1, "iter": 0, "metric": "Validation",
			"variant": "val_labels.jpg", "key": "P/t/metrics/a.jpg", "url": "http://f/P/t/metrics/a.jpg"}),
		jsonLine(t, map[string]any{"type": "plot", "task": id, "iter": 0, "metric": "results", "variant": "plot image", "plot_str": "{}"}),
		jsonLine(t, map[string]any{"type": "log", "task": id, "timestamp": 5, "level": "info", "msg": "hello", "worker": "w"}),
	}
	r := c.events(lines...)
	if r.status != 200 || r.data()["added"] != float64(6) || r.data()["errors"] != float64(0) {
		t.Fatalf("add_batch: %s", r.raw)
	}
	// Re-send: scalars/images/plots overwrite, the log duplicates.
	r = c.events(lines...)
	if r.status != 200 || r.data()["added"] != float64(6) {
		t.Fatalf("re-send: %s", r.raw)
	}
	evs := s.Events(id)
	if len(evs) != 7 || s.EventWrites(id) != 12 {
		t.Fatalf("events %d writes %d", len(evs), s.EventWrites(id))
	}
	logs := 0
	for _, e := range evs {
		if e.Type == "log" {
			logs++
			if e.Msg != "hello" || e.Level != "info" || e.Timestamp != 5 {
				t.Fatalf("log %+v", e)
			}
		}
		if e.Type == "training_debug_image" && (e.URL == "" || e.Key == "" || e.Iter != 0) {
			t.Fatalf("image %+v", e)
		}
	}
	if logs != 2 {
		t.Fatalf("logs %d", logs)
	}
	// Ordering: type, metric, variant, iter.
	if evs[0].Type != "log" || evs[len(evs)-1].Type != "training_stats_scalar" || evs[len(evs)-1].Iter != 1 {
		t.Fatalf("order: %+v", evs)
	}
	// A new value for an existing id replaces it.
	c.events(jsonLine(t, scalar(id, 1, "train", "train/box_loss", 9)))
	for _, e := range s.Events(id) {
		if e.Metric == "train" && e.Iter == 1 && e.Value != 9 {
			t.Fatalf("not overwritten: %+v", e)
		}
	}
	tk, _ := s.Task(id)
	if tk.LastIteration != 1 {
		t.Fatalf("last_iteration %d", tk.LastIteration)
	}

	// Completed tasks accept events.
	c.ok("tasks.started", map[string]any{"task": id})
	c.ok("tasks.completed", map[string]any{"task": id})
	if r = c.events(jsonLine(t, scalar(id, 7, "lr", "lr/pg0", 0.1))); r.status != 200 {
		t.Fatalf("completed task: %s", r.raw)
	}
	if tk, _ = s.Task(id); tk.LastIteration != 7 {
		t.Fatalf("last_iteration %d", tk.LastIteration)
	}

	// Errors.
	checkErr(t, c.events(), "empty", 400, 17)
	checkErr(t, c.events("", "  "), "blank", 400, 17)
	checkErr(t, c.events("["+jsonLine(t, scalar(id, 0, "a", "b", 1))+"]"), "array body", 400, 12)
	bad := scalar(id, 0, "a", "b", 1)
	bad["bogus"] = true
	checkErr(t, c.events(jsonLine(t, bad)), "unknown field", 400, 12)
	bad = scalar(id, 0, "a", "b", 1)
	bad["value"] = "1.0"
	checkErr(t, c.events(jsonLine(t, bad)), "value string", 400, 12)
	bad = scalar(id, 0, "a", "b", 1)
	bad["iter"] = 1.5
	checkErr(t, c.events(jsonLine(t, bad)), "iter float", 400, 12)
	bad = scalar(id, 0, "a", "b", 1)
	bad["type"] = "scalar"
	checkErr(t, c.events(jsonLine(t, bad)), "bad type", 400, 12)
	delete(bad, "type")
	checkErr(t, c.events(jsonLine(t, bad)), "missing type", 400, 12)
	checkErr(t, c.events("{not json"), "bad json", 400, 12)

	r = c.events(jsonLine(t, scalar("nope", 0, "a", "b", 1)))
	checkErr(t, r, "unknown task", 400, 131)
	if info := r.meta()["error_data"].(map[string]any); info["Invalid task id nope"] != float64(1) {
		t.Fatalf("error_data %v", r.meta()["error_data"])
	}
	r = c.events(jsonLine(t, scalar("nope", 0, "a", "b", 1)), jsonLine(t, scalar(id, 0, "a", "b", 1)))
	if r.status != 200 || r.data()["added"] != float64(1) || r.data()["errors"] != float64(1) ||
		r.data()["errors_info"].(map[string]any)["Invalid task id nope"] != float64(1) {
		t.Fatalf("partial: %s", r.raw)
	}
	r = rawCall(t, s, "POST", "/events.add_batch", "Bearer "+c.token, "application/json", jsonLine(t, scalar(id, 0, "a", "b", 1)))
	checkErr(t, r, "wrong content type", 400, 12)
	r = rawCall(t, s, "POST", "/events.add_batch", "Bearer "+c.token, "application/json-lines", jsonLine(t, scalar(id, 0, "a", "b", 1)), "Content-Encoding", "gzip")
	if r.status != 415 {
		t.Fatalf("gzip: %d", r.status)
	}
}

// readAll pages through get_task_events until an empty page, at most
// limit pages, and returns the pages.
func readAll(c *client, body map[string]any, limit int) [][]map[string]any {
	c.t.Helper()
	var pages [][]map[string]any
	scroll := ""
	for len(pages) < limit {
		b := map[string]any{}
		for k, v := range body {
			b[k] = v
		}
		if scroll != "" {
			b["scroll_id"] = scroll
		}
		d := c.ok("events.get_task_events", b)
		evs := d["events"].([]any)
		if int(d["returned"].(float64)) != len(evs) {
			c.t.Fatalf("returned %v, %d events", d["returned"], len(evs))
		}
		if len(evs) == 0 {
			// Past the end: empty pages, the same scroll id.
			if again := c.ok("events.get_task_events", map[string]any{"task": body["task"], "scroll_id": d["scroll_id"]}); len(again["events"].([]any)) != 0 || again["scroll_id"] != d["scroll_id"] {
				c.t.Fatalf("after the end: %v", again)
			}
			return pages
		}
		page := make([]map[string]any, len(evs))
		for i, e := range evs {
			page[i] = e.(map[string]any)
		}
		pages = append(pages, page)
		scroll = d["scroll_id"].(string)
	}
	return pages
}

func iters(page []map[string]any) []int {
	var out []int
	for _, e := range page {
		out = append(out, int(e["iter"].(float64)))
	}
	return out
}

func TestEventsScroll(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	var lines []string
	for i := 1; i <= 7; i++ {
		for _, m := range []string{"a", "b", "c"} {
			lines = append(lines, jsonLine(t, scalar(id, int64(i), "train", m, float64(i))))
		}
	}
	lines = append(lines, jsonLine(t, scalar(id, minIter, "Summary", "fitness", 1)),
		jsonLine(t, map[string]any{"type": "log", "task": id, "timestamp": 1, "msg": "m"}))
	if r := c.events(lines...); r.status != 200 {
		t.Fatal(r.raw)
	}

	// By iteration, one page per call of batch_size events plus the rest
	// of the last iteration: an iteration is never split.
	pages := readAll(c, map[string]any{"task": id, "event_type": "training_stats_scalar", "batch_size": 5}, 20)
	want := [][]int{{minIter, 1, 1, 1, 2, 2, 2}, {3, 3, 3, 4, 4, 4}, {5, 5, 5, 6, 6, 6}, {7, 7, 7}}
	if got := fmt.Sprint(pages2iters(pages)); got != fmt.Sprint(want) {
		t.Fatalf("pages %s, want %v", got, want)
	}
	pages = readAll(c, map[string]any{"task": id, "event_type": "training_stats_scalar", "order": "desc", "batch_size": 4}, 20)
	want = [][]int{{7, 7, 7, 6, 6, 6}, {5, 5, 5, 4, 4, 4}, {3, 3, 3, 2, 2, 2}, {1, 1, 1, minIter}}
	if got := fmt.Sprint(pages2iters(pages)); got != fmt.Sprint(want) {
		t.Fatalf("desc pages %s, want %v", got, want)
	}

	// The same scroll id gives the same page again.
	first := c.ok("events.get_task_events", map[string]any{"task": id, "event_type": "training_stats_scalar", "batch_size": 5})
	sid := first["scroll_id"]
	a := c.ok("events.get_task_events", map[string]any{"task": id, "scroll_id": sid, "batch_size": 5})
	b := c.ok("events.get_task_events", map[string]any{"task": id, "scroll_id": sid, "batch_size": 5})
	if fmt.Sprint(a["events"]) != fmt.Sprint(b["events"]) || first["total"] != float64(22) {
		t.Fatalf("retry differs or total %v", first["total"])
	}

	// All types: the log event (no iter) comes last, and a page ending
	// with it fails as on the server.
	d := c.call("events.get_task_events", map[string]any{"task": id})
	if d.status != 500 || d.meta()["result_msg"] != "'iter'" {
		t.Fatalf("page ending with a log event: %s", d.raw)
	}

	// After a page ending at iteration 0 the scroll starts over.
	id0 := c.newTask("plots")
	for _, v := range []string{"x", "y"} {
		c.events(jsonLine(t, map[string]any{"type": "plot", "task": id0, "iter": 0, "metric": "results", "variant": v, "plot_str": "{}"}))
	}
	pages = readAll(c, map[string]any{"task": id0, "event_type": "plot"}, 3)
	if len(pages) != 3 || fmt.Sprint(pages[0]) != fmt.Sprint(pages[2]) {
		t.Fatalf("iteration 0: %d pages, want the same page over and over", len(pages))
	}

	c.fail("events.get_task_events", map[string]any{"task": id, "scroll_id": "garbage!"}, 400, 1104)
	c.fail("events.get_task_events", map[string]any{"task": "nope"}, 400, 101)
	c.fail("events.get_task_events", map[string]any{"task": id, "count_total": true}, 400, 12)
	c.fail("events.get_task_events", map[string]any{"task": id, "event_type": "scalar"}, 400, 12)
}

func pages2iters(pages [][]map[string]any) [][]int {
	var out [][]int
	for _, p := range pages {
		out = append(out, iters(p))
	}
	return out
}

func TestEventsTotalCapped(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	var lines []string
	for i := 1; i <= 10_050; i++ {
		lines = append(lines, jsonLine(t, scalar(id, int64(i), "train", "loss", 1)))
	}
	if r := c.events(lines...); r.status != 200 {
		t.Fatal(r.raw)
	}
	d := c.ok("events.get_task_events", map[string]any{"task": id, "event_type": "training_stats_scalar"})
	if d["total"] != float64(10_000) || len(d["events"].([]any)) != 500 {
		t.Fatalf("total %v, %d events; want 10000 (capped), 500 (default batch)", d["total"], len(d["events"].([]any)))
	}
	n := 0
	for _, p := range readAll(c, map[string]any{"task": id, "event_type": "training_stats_scalar", "batch_size": 5000}, 10) {
		n += len(p)
	}
	if n != 10_050 {
		t.Fatalf("read %d events, want 10050", n)
	}
}

func TestEventsLargePlotCompressed(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	fig := `{"data": [{"y": [` + strings.Repeat("0.5, ", 30_000) + `1]}], "layout": {"images": [{"source": "http://files/a b.png"}]}}`
	if r := c.events(jsonLine(t, map[string]any{"type": "plot", "task": id, "iter": 1, "metric": "PR", "variant": "curve", "plot_str": fig})); r.status != 200 {
		t.Fatal(r.raw)
	}
	d := c.ok("events.get_task_events", map[string]any{"task": id, "event_type": "plot"})
	e := d["events"].([]any)[0].(map[string]any)
	if _, ok := e["plot_str"]; ok || e["plot_len"] != float64(len(fig)) {
		t.Fatalf("a %d-character plot came back with plot_str or plot_len %v", len(fig), e["plot_len"])
	}
	z, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(e["plot_data"].(string), "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != fig || fmt.Sprint(e["source_urls"]) != "[http://files/a b.png]" {
		t.Fatalf("plot_data does not decode to the figure, or source_urls %v", e["source_urls"])
	}
	if evs := s.Events(id); len(evs) != 1 || evs[0].PlotStr != fig {
		t.Fatalf("Events() lost the figure")
	}
}

func TestEventsGetTaskLog(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	var lines []string
	for i := 1; i <= 9; i++ {
		lines = append(lines, jsonLine(t, map[string]any{"type": "log", "task": id, "timestamp": 1000 + (i+1)/2, "level": "info", "msg": fmt.Sprint(i)}))
	}
	c.events(lines...)
	var got []string
	body := map[string]any{"task": id, "batch_size": 3}
	for calls := 0; calls < 10; calls++ {
		d := c.ok("events.get_task_log", body)
		evs := d["events"].([]any)
		if d["total"] != float64(9) {
			t.Fatalf("total %v", d["total"])
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			got = append(got, e.(map[string]any)["msg"].(string))
		}
		body["from_timestamp"] = evs[len(evs)-1].(map[string]any)["timestamp"]
	}
	// Latest first; a timestamp is never split between calls.
	if fmt.Sprint(got) != "[9 7 8 5 6 3 4 1 2]" {
		t.Fatalf("log %v", got)
	}
	c.fail("events.get_task_log", map[string]any{"task": id, "scroll_id": "x"}, 400, 12)
}

func TestEventsConcurrent(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var lines []string
			for i := 0; i < 20; i++ {
				lines = append(lines, jsonLine(t, scalar(id, int64(i), fmt.Sprint("m", g), "v", 1)))
			}
			c.events(lines...)
			_ = s.Events(id)
			_ = s.Tasks()
		}(g)
	}
	wg.Wait()
	if n := len(s.Events(id)); n != 160 {
		t.Fatalf("events %d", n)
	}
}
