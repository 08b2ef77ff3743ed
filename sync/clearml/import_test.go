package clearml

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// importSession does what the ClearML SDK's Task.import_offline_session
// does (clearml-api.md §5.3), with our client: create the task, edit it
// with the session's fields, upload artifacts and the files events point
// at with the ids rewritten, send each metrics.jsonl line as one batch,
// and complete the task. It returns the new task id. A referenced file
// missing from the session fails the test, unless lenient (the SDK then
// skips it).
func importSession(t *testing.T, c *client, folder string, lenient ...bool) string {
	t.Helper()
	ctx := context.Background()
	var task map[string]any
	b, err := os.ReadFile(filepath.Join(folder, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &task); err != nil {
		t.Fatal(err)
	}
	old := task["id"].(string)
	var proj struct{ ID string }
	var found struct{ Projects []struct{ ID string } }
	name := task["project_name"].(string)
	if err := c.call(ctx, "projects.get_all", map[string]any{"name": "^" + regexp.QuoteMeta(name) + "$"}, &found); err != nil {
		t.Fatal(err)
	}
	if len(found.Projects) > 0 {
		proj.ID = found.Projects[0].ID
	} else if err := c.call(ctx, "projects.create", map[string]any{"name": name}, &proj); err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	if err := c.call(ctx, "tasks.create", map[string]any{"name": task["name"], "type": "training", "project": proj.ID}, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	edit := map[string]any{"task": id, "force": true}
	for _, k := range []string{"name", "tags", "system_tags", "type", "comment", "hyperparams", "runtime", "execution"} {
		if v, ok := task[k]; ok {
			edit[k] = v
		}
	}
	if ex, ok := task["execution"].(map[string]any); ok {
		// The SDK sends the legacy execution fields of an older task.json
		// as they are; the server drops them (API 2.23 does not name
		// them), the strict fake refuses them.
		delete(ex, "docker_cmd")
		delete(ex, "model")
	}
	upload := func(local, key string) {
		data, err := os.ReadFile(local)
		if err != nil && len(lenient) > 0 && lenient[0] {
			t.Logf("importer: %v (skipped)", err)
			return
		}
		if err != nil {
			t.Errorf("importer: %v", err)
			return
		}
		if err := c.upload(ctx, key, "application/octet-stream", int64(len(data)), func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if ex, ok := task["execution"].(map[string]any); ok {
		prefix := task["offline_folder"].(string) + "/data/"
		for _, a := range ex["artifacts"].([]any) {
			art := a.(map[string]any)
			local := strings.Replace(art["uri"].(string), prefix, "", 1)
			key := strings.Replace(local, "."+old+"/", "."+id+"/", 1)
			upload(filepath.Join(folder, "data", local), key)
			art["uri"] = c.cfg.FilesHost + "/" + key
		}
	}
	if err := c.call(ctx, "tasks.edit", edit, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(ctx, "tasks.started", map[string]any{"task": id, "force": true}, nil); err != nil {
		t.Fatal(err)
	}
	// Console log: one batch per log.jsonl line, with the new task id.
	logs, _ := os.ReadFile(filepath.Join(folder, "log.jsonl"))
	for _, line := range strings.Split(strings.TrimSpace(string(logs)), "\n") {
		if line == "" {
			continue
		}
		var evs []map[string]any
		if err := json.Unmarshal([]byte(line), &evs); err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		for _, e := range evs {
			e["task"] = id
			lb, _ := json.Marshal(e)
			body.Write(lb)
			body.WriteByte('\n')
		}
		if err := c.send(ctx, "events.add_batch", body.Bytes(), "application/json-lines", nil); err != nil {
			t.Fatal(err)
		}
	}
	metrics, _ := os.ReadFile(filepath.Join(folder, "metrics.jsonl"))
	for _, line := range strings.Split(strings.TrimSpace(string(metrics)), "\n") {
		var evs []map[string]any
		if err := json.Unmarshal([]byte(line), &evs); err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		for _, e := range evs {
			if e["task"] != old {
				continue
			}
			e["task"] = id
			if key, ok := e["key"].(string); ok && e["url"] != nil {
				local := filepath.Join(folder, "data", filepath.FromSlash(key))
				key = strings.Replace(key, "."+old+"/", "."+id+"/", 1)
				upload(local, key)
				e["key"], e["url"] = key, c.cfg.FilesHost+"/"+key
			}
			if ps, ok := e["plot_str"].(string); ok {
				var fig map[string]any
				json.Unmarshal([]byte(ps), &fig)
				for _, im := range fig["layout"].(map[string]any)["images"].([]any) {
					img := im.(map[string]any)
					pre, post, ok := strings.Cut(img["source"].(string), "."+old+"/")
					if !ok {
						continue
					}
					parts := strings.Split(pre, "/")
					pre = strings.Join(parts[max(0, len(parts)-2):], "/")
					upload(filepath.Join(folder, "data", filepath.FromSlash(pre+"."+old+"/"+post)), pre+"."+id+"/"+post)
					img["source"] = c.cfg.FilesHost + "/" + pre + "." + id + "/" + post
				}
				nb, _ := json.Marshal(fig)
				e["plot_str"] = string(nb)
			}
			lb, _ := json.Marshal(e)
			body.Write(lb)
			body.WriteByte('\n')
		}
		if err := c.send(ctx, "events.add_batch", body.Bytes(), "application/json-lines", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.call(ctx, "tasks.completed", map[string]any{"task": id, "status_reason": "completed"}, nil); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestOffline_ImportsLikeOnlineSync writes a session, imports it the way
// the SDK does, and compares the task with an online sync of the same
// archive: same events, values, images and plots (apart from ids and
// the plot images' folder, which the importer shortens to two parts).
func TestOffline_ImportsLikeOnlineSync(t *testing.T) {
	archive := synctest.Capture(t, "detect-clearml")
	srv := clearmltest.New()
	defer srv.Close()
	cfg := Config{APIHost: srv.API.URL, WebHost: srv.WebURL(), FilesHost: srv.Files.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	quick := ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond}

	on := New(cfg, ysync.Options{Project: "Imported"})
	on.SetClientOptions(quick)
	res := ysync.One(context.Background(), archive, on, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	if res.Status != ysync.StatusSynced {
		t.Fatal(res.Error)
	}
	dir := t.TempDir()
	off := ysync.One(context.Background(), archive, NewOffline(dir, ysync.Options{Project: "Imported"}), ysync.BatchOptions{})
	if off.Status != ysync.StatusWritten {
		t.Fatal(off.Error)
	}
	imported := importSession(t, newClient(cfg, quick), filepath.Join(dir, off.RemoteID))

	norm := func(task string) map[string]string {
		out := map[string]string{}
		ids := regexp.MustCompile(regexp.QuoteMeta(task) + `|` + regexp.QuoteMeta(srv.Files.URL))
		for _, e := range srv.Events(task) {
			k := strings.Join([]string{e.Type, e.Metric, e.Variant, time.Duration(e.Iter).String(), ids.ReplaceAllString(e.Key, "X")}, "|")
			plot := ""
			if e.PlotStr != "" {
				var fig any
				json.Unmarshal([]byte(strings.ReplaceAll(e.PlotStr, "%20", " ")), &fig)
				b, _ := json.Marshal(fig) // the importer re-serializes
				plot = ids.ReplaceAllString(string(b), "X")
			}
			out[k] = time.Duration(int64(e.Value*1e12)).String() + " " + plot
			if e.URL != "" {
				if _, ok := srv.File(strings.TrimPrefix(e.URL, srv.Files.URL+"/")); !ok {
					t.Errorf("%s: %s not on the file server", k, e.URL)
				}
			}
		}
		return out
	}
	want, got := norm(res.RemoteID), norm(imported)
	if len(want) == 0 || len(got) != len(want) {
		t.Errorf("imported %d events, online %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n imported %s\n   online %s", k, got[k], w)
		}
	}
	task, _ := srv.Task(imported)
	if task.Hyperparams["General"]["lr0"].Value != "0.01" || !strings.Contains(strings.Join(task.SystemTags, ","), RunTagPrefix) {
		t.Errorf("imported task %+v", task)
	}
}
