package clearml_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// readSession reads a session folder's metrics.jsonl.
func readSession(t *testing.T, folder string) []sessionEvent {
	data, err := os.ReadFile(filepath.Join(folder, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []sessionEvent
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var evs []sessionEvent
		if err := json.Unmarshal([]byte(line), &evs); err != nil {
			t.Fatalf("metrics.jsonl line is not a JSON array of events: %v", err)
		}
		out = append(out, evs...)
	}
	return out
}

func writeOffline(t *testing.T, archive, dir string, o ysync.Options) ysync.Result {
	t.Helper()
	r := ysync.One(context.Background(), archive, clearml.NewOffline(dir, o), ysync.BatchOptions{})
	if r.Status != ysync.StatusWritten {
		t.Fatalf("%s: %s", r.Status, r.Error)
	}
	return r
}

// TestOffline_MatchesGenuineSession writes a session for the fixture run
// and compares its events with the SDK's own session of that run, and
// checks that every file reference resolves inside the session the way
// the SDK's importer resolves it.
func TestOffline_MatchesGenuineSession(t *testing.T) {
	archive := synctest.Capture(t, "detect-clearml")
	dir := t.TempDir()
	res := writeOffline(t, archive, dir, ysync.Options{})
	id := res.RemoteID
	folder := filepath.Join(dir, id)
	if res.Output != folder+".zip" || !strings.HasPrefix(id, "offline-") || len(id) != 40 {
		t.Fatalf("output %s id %s", res.Output, id)
	}
	want := sessionEvents(t)
	got := map[string]sessionEvent{}
	for _, e := range readSession(t, folder) {
		got[id2(e)] = e
		var raw map[string]any
		b, _ := json.Marshal(e)
		json.Unmarshal(b, &raw)
		checkResolvable(t, folder, id, e)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			if w.Metric == "Summary" && strings.HasPrefix(w.Variant, "model/") {
				continue // gap model_info
			}
			t.Errorf("missing %s", k)
			continue
		}
		if w.Type == "training_stats_scalar" && w.Metric != "Epoch Time" && !near(g.Value, w.Value) {
			t.Errorf("%s = %v, want %v", k, g.Value, w.Value)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra %s", k)
		}
	}
	var task map[string]any
	b, _ := os.ReadFile(filepath.Join(folder, "task.json"))
	if err := json.Unmarshal(b, &task); err != nil {
		t.Fatal(err)
	}
	if task["id"] != id || task["name"] != "detect-clearml" || task["project_name"] != "home/trainer/runs" ||
		task["type"] != "training" || task["offline_folder"] != folder {
		t.Errorf("task.json %v", task)
	}
	gen := task["hyperparams"].(map[string]any)["General"].(map[string]any)
	if item := gen["lr0"].(map[string]any); item["value"] != "0.01" || item["type"] != "float" {
		t.Errorf("General/lr0 %v", item)
	}
	// The zip holds the folder's files at its root.
	zr, err := zip.OpenReader(res.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, _ := f.Open()
		zb, _ := io.ReadAll(rc)
		rc.Close()
		fb, err := os.ReadFile(filepath.Join(folder, filepath.FromSlash(f.Name)))
		if err != nil || !bytes.Equal(zb, fb) {
			t.Errorf("zip entry %s differs from the folder (%v)", f.Name, err)
		}
	}
	// Writing again gives the same bytes.
	first, _ := os.ReadFile(res.Output)
	writeOffline(t, archive, dir, ysync.Options{})
	again, _ := os.ReadFile(res.Output)
	if !bytes.Equal(first, again) {
		t.Error("a second write differs")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("output dir holds %d entries, want the folder and the zip", len(entries))
	}
}

func id2(e sessionEvent) string { return id(e.Type, e.Iter, e.Metric, e.Variant, keySuffix(e.Key)) }

func near(a, b float64) bool {
	d := a - b
	return d*d <= 1e-24*b*b
}

// checkResolvable resolves an event's files as the SDK's importer does
// (clearml-api.md §5.3 step 7).
func checkResolvable(t *testing.T, folder, id string, e sessionEvent) {
	t.Helper()
	if e.Key != "" {
		if !strings.Contains(e.Key, "."+id+"/") {
			t.Errorf("key %s lacks .%s/", e.Key, id)
		}
		if _, err := os.Stat(filepath.Join(folder, "data", filepath.FromSlash(e.Key))); err != nil {
			t.Errorf("debug image %s: %v", e.Key, err)
		}
	}
	if e.PlotStr != "" {
		var fig struct {
			Layout struct {
				Images []struct {
					Source string `json:"source"`
				} `json:"images"`
			} `json:"layout"`
		}
		json.Unmarshal([]byte(e.PlotStr), &fig)
		for _, im := range fig.Layout.Images {
			pre, post, ok := strings.Cut(im.Source, "."+id+"/")
			if !ok {
				t.Errorf("plot source %s lacks .%s/", im.Source, id)
				continue
			}
			parts := strings.Split(pre, "/")
			pre = path.Join(parts[max(0, len(parts)-2):]...)
			if _, err := os.Stat(filepath.Join(folder, "data", filepath.FromSlash(pre+"."+id+"/"+post))); err != nil {
				t.Errorf("plot image %s does not resolve: %v", im.Source, err)
			}
		}
	}
}

func TestOffline_NestedProjectAndModel(t *testing.T) {
	archive := synctest.Capture(t, synctest.WithWeights(t, "detect-clearml"))
	dir := t.TempDir()
	res := writeOffline(t, archive, dir, ysync.Options{Project: "Team/YOLO/2024"})
	folder := filepath.Join(dir, res.RemoteID)
	for _, e := range readSession(t, folder) {
		checkResolvable(t, folder, res.RemoteID, e)
	}
	var task struct {
		ProjectName string `json:"project_name"`
		Execution   struct {
			Artifacts []struct {
				Key, URI string
			} `json:"artifacts"`
		} `json:"execution"`
	}
	b, _ := os.ReadFile(filepath.Join(folder, "task.json"))
	json.Unmarshal(b, &task)
	if task.ProjectName != "Team/YOLO/2024" || len(task.Execution.Artifacts) != 1 {
		t.Fatalf("task.json %s", b)
	}
	a := task.Execution.Artifacts[0]
	rest, ok := strings.CutPrefix(a.URI, folder+"/data/")
	if !ok || !strings.Contains(rest, "."+res.RemoteID+"/") {
		t.Fatalf("artifact uri %s", a.URI)
	}
	want, _ := os.ReadFile(synctest.Checkpoint())
	if got, err := os.ReadFile(filepath.Join(folder, "data", rest)); err != nil || !bytes.Equal(got, want) {
		t.Errorf("weights artifact: %v", err)
	}
}
