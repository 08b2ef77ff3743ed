package clearml

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
)

func fakeClient(t *testing.T) (*clearmltest.Server, *client) {
	t.Helper()
	srv := clearmltest.New()
	t.Cleanup(srv.Close)
	cfg := Config{APIHost: srv.API.URL, WebHost: srv.WebURL(), FilesHost: srv.Files.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	return srv, newClient(cfg, ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond})
}

func fakeTask(t *testing.T, c *client) string {
	t.Helper()
	ctx := context.Background()
	var p, task struct{ ID string }
	if err := c.call(ctx, "projects.create", map[string]any{"name": "Proj"}, &p); err != nil {
		t.Fatal(err)
	}
	if err := c.call(ctx, "tasks.create", map[string]any{"name": "train", "type": "training", "project": p.ID}, &task); err != nil {
		t.Fatal(err)
	}
	return task.ID
}

// TestClient_CallsPinnedVersion: the client asks for the API version whose
// schemas it is written against, as the SDK does, not whatever the
// server's newest version is.
func TestClient_CallsPinnedVersion(t *testing.T) {
	srv, c := fakeClient(t)
	fakeTask(t, c)
	for _, ep := range []string{"auth.login", "projects.create", "tasks.create"} {
		if got := srv.CallsAt(ep, apiVersion); got != 1 || srv.Calls(ep) != 1 {
			t.Errorf("%s: %d calls at %s of %d", ep, got, apiVersion, srv.Calls(ep))
		}
	}
}

// TestClient_StrictFakeRefusesDroppedFields: a field the real server would
// drop without an error (the endpoint's schema does not name it) fails
// against the fake, naming the field.
func TestClient_StrictFakeRefusesDroppedFields(t *testing.T) {
	_, c := fakeClient(t)
	task := fakeTask(t, c)
	ctx := context.Background()
	cases := []struct {
		name, endpoint, field string
		body                  map[string]any
	}{
		{"backdated start", "tasks.create", "started", map[string]any{"name": "abc", "type": "training", "started": "2024-05-01T10:00:00"}},
		{"model iteration at create", "models.create", "iteration", map[string]any{"uri": "http://f/best.pt", "name": "best", "iteration": 99}},
		{"log event iteration", "events.add", "iter", map[string]any{"type": "log", "task": task, "msg": "hi", "iter": 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.call(ctx, tc.endpoint, tc.body, nil)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != 400 || ae.Subcode != 12 || !strings.Contains(ae.Msg, "'"+tc.field+"'") {
				t.Fatalf("err = %v, want 400/12 naming %q", err, tc.field)
			}
		})
	}
}

// TestClient_TaskEventsInflatesLargePlots: the server stores a plot of
// 100,000 characters or more compressed and reads it back as plot_data;
// the read-back restores plot_str.
func TestClient_TaskEventsInflatesLargePlots(t *testing.T) {
	_, c := fakeClient(t)
	task := fakeTask(t, c)
	ctx := context.Background()
	fig := `{"data": [{"y": [` + strings.Repeat("0.25, ", 25_000) + `1]}], "layout": {}}`
	line := `{"type": "plot", "task": "` + task + `", "iter": 2, "metric": "PR", "variant": "curve", "plot_str": ` + quoteJSON(fig) + "}\n"
	if err := c.send(ctx, "events.add_batch", []byte(line), "application/json-lines", nil); err != nil {
		t.Fatal(err)
	}
	var evs []map[string]any
	err := c.taskEvents(ctx, task, "plot", func(e map[string]any) error {
		evs = append(evs, e)
		return nil
	}, func() { evs = nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0]["plot_str"] != fig {
		t.Fatalf("%d plots; plot_str restored: %v", len(evs), len(evs) == 1 && evs[0]["plot_str"] == fig)
	}
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
	b.WriteByte('"')
	return b.String()
}
