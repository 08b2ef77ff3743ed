package clearml

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"fmt"
	"io"
)

// readBatch is the page size of the first read of a task's events;
// maxReadBatch the largest the server serves (Elasticsearch's result
// window).
const (
	readBatch    = 1000
	maxReadBatch = 10_000
)

// taskEvents calls fn with every event of one type of a task, each once,
// holding none: fn folds them. When the read has to start over (see
// below), reset is called first, to forget what fn was given.
//
// events.get_task_events pages by iteration: batch_size events, plus the
// rest of the last one's iteration, then the next page after that
// iteration. Reading one type at a time keeps log events out: they have
// no iteration, and a page ending with one fails on the server. After a
// page that ends at iteration 0 the server starts over from the first
// page: a page that brings nothing new ends the read, and if the page
// before it was full, events may lie beyond iteration 0 and the read is
// repeated with larger pages.
func (c *client) taskEvents(ctx context.Context, task, eventType string, fn func(e map[string]any) error, reset func()) error {
	for batch := readBatch; ; batch *= 10 {
		cut, err := c.scrollEvents(ctx, task, eventType, batch, fn)
		if err != nil || !cut {
			return err
		}
		if batch >= maxReadBatch {
			return fmt.Errorf("ClearML at %s cannot page past iteration 0 of task %s: it holds %d or more %s events at iterations up to 0", redactHost(c.cfg.APIHost), task, batch, eventType)
		}
		reset()
	}
}

// scrollEvents pages through the events; cut reports that the server
// started over after a full page ending at iteration 0. Pages come in
// ascending iterations and never overlap but for the start over, which
// repeats only events up to iteration 0: only those are remembered to
// tell a repeat.
func (c *client) scrollEvents(ctx context.Context, task, eventType string, batch int, fn func(e map[string]any) error) (cut bool, err error) {
	seen := map[pointID]bool{}
	scroll := ""
	fullAt0 := false
	for {
		q := map[string]any{"task": task, "event_type": eventType, "batch_size": batch}
		if scroll != "" {
			q["scroll_id"] = scroll
		}
		var page struct {
			Events   []map[string]any `json:"events"`
			ScrollID string           `json:"scroll_id"`
		}
		if err := c.call(ctx, "events.get_task_events", q, &page); err != nil {
			return false, err
		}
		fresh := 0
		for _, e := range page.Events {
			if err := inflatePlot(e); err != nil {
				return false, fmt.Errorf("ClearML at %s: plot %v/%v of task %s: %v", redactHost(c.cfg.APIHost), e["metric"], e["variant"], task, err)
			}
			if toInt(e["iter"]) <= 0 {
				id := eventPointID(e)
				if seen[id] {
					continue
				}
				seen[id] = true
			}
			fresh++
			if err := fn(e); err != nil {
				return false, err
			}
		}
		switch {
		case len(page.Events) == 0 || page.ScrollID == "":
			return false, nil
		case fresh == 0:
			return fullAt0, nil
		}
		fullAt0 = len(page.Events) >= batch && toInt(page.Events[len(page.Events)-1]["iter"]) == 0
		scroll = page.ScrollID
	}
}

// inflatePlot restores the plot_str of a plot the server stored
// compressed (100,000 characters or more): it answers plot_data, the
// figure zlib-compressed and base64-encoded, instead.
func inflatePlot(e map[string]any) error {
	data, ok := e["plot_data"].(string)
	if _, has := e["plot_str"]; has || !ok {
		return nil
	}
	z, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return fmt.Errorf("plot_data: %v", err)
	}
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return fmt.Errorf("plot_data: %v", err)
	}
	fig, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return fmt.Errorf("plot_data: %v", err)
	}
	e["plot_str"] = string(fig)
	delete(e, "plot_data")
	return nil
}
