package clearmltest

import (
	"fmt"
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
	if info := r.meta()["error_data"].(map[string]any)["errors_info"].(map[string]any); info["Invalid task id"] != float64(1) {
		t.Fatalf("error_data %v", r.meta()["error_data"])
	}
	r = c.events(jsonLine(t, scalar("nope", 0, "a", "b", 1)), jsonLine(t, scalar(id, 0, "a", "b", 1)))
	if r.status != 200 || r.data()["added"] != float64(1) || r.data()["errors"] != float64(1) ||
		r.data()["errors_info"].(map[string]any)["Invalid task id"] != float64(1) {
		t.Fatalf("partial: %s", r.raw)
	}
	r = rawCall(t, s, "POST", "/events.add_batch", "Bearer "+c.token, "application/json", jsonLine(t, scalar(id, 0, "a", "b", 1)))
	checkErr(t, r, "wrong content type", 400, 12)
	r = rawCall(t, s, "POST", "/events.add_batch", "Bearer "+c.token, "application/json-lines", jsonLine(t, scalar(id, 0, "a", "b", 1)), "Content-Encoding", "gzip")
	if r.status != 415 {
		t.Fatalf("gzip: %d", r.status)
	}
}

func TestEventsScroll(t *testing.T) {
	s := New()
	defer s.Close()
	c := newClient(t, s)
	id := c.newTask("train3")
	var lines []string
	for i := 0; i < 23; i++ {
		lines = append(lines, jsonLine(t, scalar(id, int64(i), "train", "loss", float64(i))))
	}
	lines = append(lines, jsonLine(t, map[string]any{"type": "log", "task": id, "timestamp": 1, "msg": "m"}))
	if r := c.events(lines...); r.status != 200 {
		t.Fatal(r.raw)
	}
	seen := map[float64]int{}
	scroll := ""
	pages := 0
	for {
		body := map[string]any{"task": id, "event_type": "training_stats_scalar", "batch_size": 5}
		if scroll != "" {
			body["scroll_id"] = scroll
		}
		d := c.ok("events.get_task_events", body)
		if d["total"] != float64(23) {
			t.Fatalf("total %v", d["total"])
		}
		evs := d["events"].([]any)
		if int(d["returned"].(float64)) != len(evs) {
			t.Fatalf("returned mismatch")
		}
		if len(evs) == 0 {
			break
		}
		pages++
		if pages == 2 {
			// Retrying with the same scroll id gives the same page.
			again := c.ok("events.get_task_events", body)
			if fmt.Sprint(again["events"]) != fmt.Sprint(evs) {
				t.Fatalf("retry differs")
			}
		}
		for _, e := range evs {
			seen[e.(map[string]any)["value"].(float64)]++
		}
		scroll = d["scroll_id"].(string)
	}
	if pages != 5 || len(seen) != 23 {
		t.Fatalf("pages %d seen %d", pages, len(seen))
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("value %v seen %d times", v, n)
		}
	}
	d := c.ok("events.get_task_events", map[string]any{"task": id, "order": "desc", "batch_size": 1,
		"metrics": []any{map[string]any{"metric": "train", "variants": []any{"loss"}}}})
	if e := d["events"].([]any)[0].(map[string]any); e["iter"] != float64(22) {
		t.Fatalf("desc first %v", e)
	}
	d = c.ok("events.get_task_events", map[string]any{"task": id})
	if d["total"] != float64(24) {
		t.Fatalf("all types total %v", d["total"])
	}
	c.fail("events.get_task_events", map[string]any{"task": id, "scroll_id": "garbage!"}, 400, 12)
	c.fail("events.get_task_events", map[string]any{"task": "nope"}, 400, 130)
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
