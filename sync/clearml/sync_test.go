package clearml_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	yarchive "github.com/yoloarchive/yoloarchive/archive"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// env is a fake ClearML server and a Destination pointed at it.
type env struct {
	srv   *clearmltest.Server
	r     *clearml.Destination
	store *ysync.Store
	cfg   clearml.Config
}

func newEnv(t testing.TB) *env {
	srv := clearmltest.New()
	t.Cleanup(srv.Close)
	cfg := clearml.Config{APIHost: srv.API.URL, WebHost: srv.WebURL(), FilesHost: srv.Files.URL,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	e := &env{srv: srv, cfg: cfg, store: &ysync.Store{Dir: t.TempDir()}}
	e.r = e.destination(ysync.Options{})
	return e
}

func (e *env) destination(o ysync.Options) *clearml.Destination {
	r := clearml.New(e.cfg, o)
	r.SetClientOptions(ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond, RetryMax: 10})
	return r
}

func (e *env) sync(t testing.TB, ctx context.Context, archive string, opts ysync.BatchOptions) ysync.Result {
	t.Helper()
	if opts.Store == nil {
		opts.Store = e.store
	}
	return ysync.One(ctx, archive, e.r, opts)
}

// sessionEvent is one event of the genuine offline session.
type sessionEvent struct {
	Type    string  `json:"type"`
	Iter    int64   `json:"iter"`
	Metric  string  `json:"metric"`
	Variant string  `json:"variant"`
	Value   float64 `json:"value"`
	Key     string  `json:"key"`
	PlotStr string  `json:"plot_str"`
}

const sessionDir = "clearml_offline_session/offline-65072dc9b8014849a4dc396a0eb301ec"

// sessionEvents reads metrics.jsonl and keeps the last write of every
// event id, as the server does.
func sessionEvents(t *testing.T) map[string]sessionEvent {
	data, err := os.ReadFile(filepath.Join(synctest.Fixtures(), "detect-clearml", sessionDir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sessionEvent{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var evs []sessionEvent
		if err := json.Unmarshal([]byte(line), &evs); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			out[id(e.Type, e.Iter, e.Metric, e.Variant, keySuffix(e.Key))] = e
		}
	}
	return out
}

func id(typ string, iter int64, metric, variant, key string) string {
	return strings.Join([]string{typ, time.Duration(iter).String(), metric, variant, key}, "|")
}

// keySuffix is the part of a file-server key after the task folder.
func keySuffix(key string) string {
	if i := strings.Index(key, "/metrics/"); i >= 0 {
		return key[i:]
	}
	return key
}

func serverEvents(t *testing.T, srv *clearmltest.Server, task string) map[string]clearmltest.Event {
	out := map[string]clearmltest.Event{}
	for _, e := range srv.Events(task) {
		out[id(e.Type, e.Iter, e.Metric, e.Variant, keySuffix(e.Key))] = e
	}
	return out
}

// TestSync_MatchesGenuineSession syncs the fixture run and compares the
// task with the ClearML SDK's own offline session of that run.
func TestSync_MatchesGenuineSession(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, "detect-clearml")
	res := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	tasks := e.srv.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	task := tasks[0]
	if task.Name != "detect-clearml" || task.Type != "training" || task.Status != "completed" ||
		len(task.Tags) != 1 || task.Tags[0] != "Ultralytics" {
		t.Errorf("task %q type %s status %s tags %v", task.Name, task.Type, task.Status, task.Tags)
	}
	if res.URL != e.srv.WebURL()+"/projects/"+task.Project+"/experiments/"+task.ID+"/output/execution" {
		t.Errorf("url %s", res.URL)
	}
	projects := e.srv.Projects()
	if got := projects[len(projects)-1].Name; got != "home/trainer/runs" {
		t.Errorf("project %q", got)
	}

	want := sessionEvents(t)
	got := serverEvents(t, e.srv, task.ID)
	// The model information single values are computed in memory and
	// never written to disk: the archive says so (gap model_info).
	notOnDisk := map[string]bool{"model/parameters": true, "model/GFLOPs": true, "model/speed_PyTorch(ms)": true}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			if w.Metric == "Summary" && notOnDisk[w.Variant] {
				continue
			}
			t.Errorf("missing event %s", k)
			continue
		}
		switch w.Type {
		case "training_stats_scalar":
			if w.Metric == "Epoch Time" {
				// results.csv's time column is rounded and measured at a
				// different point than the callback's timer.
				if math.Abs(g.Value-w.Value) > 0.5 || g.Value <= 0 {
					t.Errorf("%s = %v, want about %v", k, g.Value, w.Value)
				}
			} else if math.Abs(g.Value-w.Value) > 1e-12*math.Abs(w.Value) {
				// Exact to results.csv's precision: the live lr values
				// carry float noise (1.4289999999999999e-05) the CSV does
				// not (1.429e-05).
				t.Errorf("%s = %v, want %v", k, g.Value, w.Value)
			}
		case "training_debug_image":
			if want := e.cfg.FilesHost + "/" + g.Key; g.URL != want {
				t.Errorf("%s url %s, want %s", k, g.URL, want)
			}
			if !strings.HasPrefix(g.Key, "home/trainer/runs/detect-clearml."+task.ID+"/metrics/") {
				t.Errorf("%s key %s", k, g.Key)
			}
			if _, ok := e.srv.File(g.Key); !ok {
				t.Errorf("%s: file %s not uploaded", k, g.Key)
			}
		case "plot":
			comparePlot(t, e, k, g.PlotStr, w.PlotStr)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra event %s", k)
		}
	}
	gaps := strings.Join(res.GapLines(), "\n")
	if !strings.Contains(gaps, "model_info") || !strings.Contains(gaps, "model:") {
		t.Errorf("gaps %q lack model_info and model", gaps)
	}

	// General hyper-parameters, exactly as task.connect stored them.
	var sess struct {
		Hyperparams map[string]map[string]clearmltest.ParamItem `json:"hyperparams"`
	}
	data, _ := os.ReadFile(filepath.Join(synctest.Fixtures(), "detect-clearml", sessionDir, "task.json"))
	if err := json.Unmarshal(data, &sess); err != nil {
		t.Fatal(err)
	}
	wantGen, gotGen := sess.Hyperparams["General"], task.Hyperparams["General"]
	if len(wantGen) == 0 || len(gotGen) != len(wantGen) {
		t.Errorf("General has %d parameters, want %d", len(gotGen), len(wantGen))
	}
	for k, w := range wantGen {
		if g := gotGen[k]; g != w {
			t.Errorf("General/%s = %+v, want %+v", k, g, w)
		}
	}
}

// comparePlot compares two plot_str figures: everything but the image
// URL's host and task folder, and the height, which Matplotlib's tight
// bounding box may round down by a pixel.
func comparePlot(t *testing.T, e *env, k, got, want string) {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: plot_str: %v", k, err)
	}
	_ = json.Unmarshal([]byte(want), &w)
	gi := g["layout"].(map[string]any)["images"].([]any)[0].(map[string]any)
	wi := w["layout"].(map[string]any)["images"].([]any)[0].(map[string]any)
	gs, ws := gi["source"].(string), wi["source"].(string)
	if !strings.HasPrefix(gs, e.cfg.FilesHost+"/") || !strings.Contains(gs, "%20") {
		t.Errorf("%s: source %s is not a path-quoted file-server URL", k, gs)
	}
	gu, _ := url.PathUnescape(gs)
	if keySuffix(gu) != keySuffix(ws) {
		t.Errorf("%s: source %s, want …%s", k, gu, keySuffix(ws))
	}
	if d := gi["sizey"].(float64) - wi["sizey"].(float64); math.Abs(d) > 1 {
		t.Errorf("%s: sizey %v, want %v", k, gi["sizey"], wi["sizey"])
	}
	for _, m := range []map[string]any{g, w} {
		l := m["layout"].(map[string]any)
		img := l["images"].([]any)[0].(map[string]any)
		delete(img, "source")
		delete(img, "sizey")
		delete(img, "y")
		delete(l["yaxis"].(map[string]any), "range")
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s: figure\n got %s\nwant %s", k, gb, wb)
	}
}

// snapshot describes a task's final state for comparing syncs.
func snapshot(t *testing.T, srv *clearmltest.Server) string {
	t.Helper()
	tasks := srv.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	var lines []string
	for k, ev := range serverEvents(t, srv, tasks[0].ID) {
		plot := strings.ReplaceAll(strings.ReplaceAll(ev.PlotStr, tasks[0].ID, "T"), srv.Files.URL, "FILES")
		lines = append(lines, k+"="+plot+time.Duration(int64(ev.Value*1e9)).String())
	}
	for _, p := range srv.FilePaths() {
		data, _ := srv.File(p)
		lines = append(lines, "file "+strings.ReplaceAll(p, tasks[0].ID, "T")+" "+time.Duration(len(data)).String())
	}
	for k, v := range tasks[0].Hyperparams["General"] {
		lines = append(lines, "param "+k+"="+v.Value)
	}
	lines = append(lines, "status "+tasks[0].Status)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestSync_TwiceGivesOneTask(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, "detect-clearml")
	first := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if first.Status != ysync.StatusSynced {
		t.Fatalf("first: %s %s", first.Status, first.Error)
	}
	clean := snapshot(t, e.srv)
	second := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if second.Status != ysync.StatusUpToDate || second.RemoteID != first.RemoteID {
		t.Fatalf("second: %s %s (task %s, first %s)", second.Status, second.Error, second.RemoteID, first.RemoteID)
	}
	// Another machine: no checkpoint, the run tag finds the task.
	other := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	if other.Status != ysync.StatusUpToDate || other.RemoteID != first.RemoteID {
		t.Fatalf("other machine: %s %s (task %s)", other.Status, other.Error, other.RemoteID)
	}
	if got := snapshot(t, e.srv); got != clean {
		t.Errorf("state changed by re-syncs")
	}
	if n := e.srv.Calls("tasks.create"); n != 1 {
		t.Errorf("tasks.create called %d times", n)
	}
	// --force makes a fresh task and retires the old one's tag.
	forced := e.sync(t, context.Background(), archive, ysync.BatchOptions{Force: true})
	if forced.Status != ysync.StatusSynced || forced.RemoteID == first.RemoteID {
		t.Fatalf("force: %s %s", forced.Status, forced.Error)
	}
	if n := len(e.srv.Tasks()); n != 2 {
		t.Fatalf("%d tasks after --force, want 2", n)
	}
	again := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	if again.RemoteID != forced.RemoteID {
		t.Errorf("after --force a lookup found %s, want the new task %s", again.RemoteID, forced.RemoteID)
	}
}

func TestSync_CancelledThenResumed(t *testing.T) {
	ref := newEnv(t)
	archive := synctest.Capture(t, "detect-clearml")
	if r := ref.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	clean := snapshot(t, ref.srv)
	for _, n := range []int{3, 8, 15, 25} {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		e.srv.Faults.CancelAfter(n, cancel)
		r := e.sync(t, ctx, archive, ysync.BatchOptions{})
		cancel()
		if r.Status == ysync.StatusSynced {
			t.Fatalf("cancel after %d requests: still synced", n)
		}
		if r.Status != ysync.StatusInterrupted {
			t.Errorf("cancel after %d: status %s (%s)", n, r.Status, r.Error)
		}
		e.srv.Faults.Clear()
		r = e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusSynced {
			t.Fatalf("resume after %d: %s %s", n, r.Status, r.Error)
		}
		if got := snapshot(t, e.srv); got != clean {
			t.Errorf("resume after %d requests differs from a clean sync:\n%s\n---\n%s", n, got, clean)
		}
	}
}

func TestSync_UnderFaults(t *testing.T) {
	ref := newEnv(t)
	archive := synctest.Capture(t, "detect-clearml")
	if r := ref.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	clean := snapshot(t, ref.srv)
	e := newEnv(t)
	e.srv.Faults.Random(7, 0.3, synctest.Fault{Kind: synctest.TooMany, RetryAfter: time.Millisecond}, synctest.Fault{Kind: synctest.ServerError}, synctest.Fault{Kind: synctest.Reset})
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("under faults: %s %s", r.Status, r.Error)
	}
	if inj := e.srv.Faults.Injected(); inj["429"] == 0 || inj["500"] == 0 || inj["reset"] == 0 || r.Retries == 0 {
		t.Fatalf("faults injected %v, retries %d: want 429, 500 and resets", inj, r.Retries)
	}
	if got := snapshot(t, e.srv); got != clean {
		t.Errorf("sync under faults differs from a clean sync:\n%s\n---\n%s", got, clean)
	}
}

func TestSync_BadInput(t *testing.T) {
	archive := synctest.Capture(t, "detect-clearml")
	t.Run("bad credentials", func(t *testing.T) {
		e := newEnv(t)
		e.cfg.SecretKey = "WRONG-SECRET-KEY-VALUE"
		e.r = e.destination(ysync.Options{})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "rejected the access key") ||
			strings.Contains(r.Error, "WRONG-SECRET") || strings.Contains(r.Error, e.cfg.AccessKey) {
			t.Errorf("%s: %s", r.Status, r.Error)
		}
		if len(e.srv.Tasks()) != 0 {
			t.Error("a task was created")
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		e := newEnv(t)
		e.cfg.APIHost = "http://127.0.0.1:1"
		e.r = e.destination(ysync.Options{})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "unreachable") || strings.Contains(r.Error, "\n") {
			t.Errorf("%s: %s", r.Status, r.Error)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Faults.Random(1, 1, synctest.Fault{Kind: synctest.Garbage})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "ClearML at") {
			t.Errorf("%s: %s", r.Status, r.Error)
		}
		h, err := yarchive.ReadHeader(archive)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := e.store.Load(e.r.Destination(), h.RunID)
		if st != nil && st.Synced {
			t.Error("marked synced")
		}
	})
	t.Run("corrupt archive", func(t *testing.T) {
		e := newEnv(t)
		data, _ := os.ReadFile(archive)
		bad := filepath.Join(t.TempDir(), "bad.tar.zst")
		os.WriteFile(bad, data[:len(data)/2], 0o644)
		r := e.sync(t, context.Background(), bad, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "bad.tar.zst") || len(e.srv.Tasks()) != 0 {
			t.Errorf("%s: %s (%d tasks)", r.Status, r.Error, len(e.srv.Tasks()))
		}
	})
}

func TestSync_OutputModel(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, synctest.WithWeights(t, "detect-clearml"))
	for i := 0; i < 2; i++ {
		st := &ysync.Store{Dir: t.TempDir()} // the second sync comes from "another machine"
		if i == 0 {
			st = e.store
		}
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: st})
		if !r.OK() {
			t.Fatalf("sync %d: %s %s", i, r.Status, r.Error)
		}
	}
	models := e.srv.Models()
	if len(models) != 1 {
		t.Fatalf("%d models, want 1", len(models))
	}
	task := e.srv.Tasks()[0]
	m := models[0]
	key := "home/trainer/runs/detect-clearml." + task.ID + "/models/best.pt"
	if m.Name != "detect-clearml" || m.Framework != "PyTorch" || m.Task != task.ID || m.URI != e.cfg.FilesHost+"/"+key {
		t.Errorf("model %+v", m)
	}
	if !strings.Contains(m.Comment, "Created by task id: "+task.ID) {
		t.Errorf("model comment %q", m.Comment)
	}
	if len(task.Models) != 1 || task.Models[0].Name != "best" || task.Models[0].Model != m.ID {
		t.Errorf("task models %+v", task.Models)
	}
	want, _ := os.ReadFile(synctest.Checkpoint())
	if got, ok := e.srv.File(key); !ok || string(got) != string(want) {
		t.Errorf("weights on the file server: %d bytes, want %d", len(got), len(want))
	}
}

func TestSync_CreateFailuresNeverDuplicate(t *testing.T) {
	archive := synctest.Capture(t, "detect-clearml")
	for _, k := range []synctest.Kind{synctest.ServerError, synctest.Reset, synctest.Garbage, synctest.BadGateway} {
		e := newEnv(t)
		e.srv.Faults.Next(2, synctest.Fault{Kind: k, Match: "tasks.create"})
		e.srv.Faults.Next(1, synctest.Fault{Kind: k, Match: "models.create"})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusSynced {
			t.Errorf("%v on tasks.create: %s %s", k, r.Status, r.Error)
			continue
		}
		if n := len(e.srv.Tasks()); n != 1 {
			t.Errorf("%v on tasks.create: %d tasks", k, n)
		}
	}
}

func TestSync_TokenExpiresMidway(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, "detect-clearml")
	ctx := context.Background()
	// Expire every token once a few requests have been made.
	go func() {
		for e.srv.Faults.Count() < 6 {
			time.Sleep(time.Millisecond)
		}
		e.srv.ExpireTokens()
	}()
	r := e.sync(t, ctx, archive, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("%s %s", r.Status, r.Error)
	}
	if n := e.srv.Calls("auth.login"); n < 2 {
		t.Errorf("auth.login called %d times", n)
	}
}

func TestSync_NestedProjectAndOverrides(t *testing.T) {
	e := newEnv(t)
	e.r = e.destination(ysync.Options{Project: "Team A/YOLO/2024", Name: "baseline", Tags: []string{"backfill", "cluster-7"}})
	archive := synctest.Capture(t, "detect-clearml")
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("%s %s", r.Status, r.Error)
	}
	task := e.srv.Tasks()[0]
	var names []string
	for _, p := range e.srv.Projects() {
		names = append(names, p.Name)
		if p.ID == task.Project && p.Name != "Team A/YOLO/2024" {
			t.Errorf("task in project %q", p.Name)
		}
	}
	if strings.Join(names, ",") != "Team A,Team A/YOLO,Team A/YOLO/2024" {
		t.Errorf("projects %v", names)
	}
	if task.Name != "baseline" || strings.Join(task.Tags, ",") != "Ultralytics,backfill,cluster-7" {
		t.Errorf("task %q tags %v", task.Name, task.Tags)
	}
	for _, ev := range e.srv.Events(task.ID) {
		if ev.Key != "" && !strings.HasPrefix(ev.Key, "Team A/YOLO/2024/baseline."+task.ID+"/metrics/") {
			t.Errorf("key %s", ev.Key)
		}
	}
}

// TestSync_TwoMachinesAtOnce: another machine creates the run's task
// between our lookup and our create. Both must end on one task.
func TestSync_TwoMachinesAtOnce(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, "detect-clearml")
	inner := e.srv.API.Config.Handler
	raced := false
	e.srv.API.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "tasks.create") && !raced {
			raced = true
			// The other machine's sync runs to completion first.
			res := ysync.One(context.Background(), archive, e.r, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
			if res.Status != ysync.StatusSynced {
				t.Errorf("other machine: %s %s", res.Status, res.Error)
			}
		}
		inner.ServeHTTP(w, r)
	})
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if !r.OK() {
		t.Fatalf("%s %s", r.Status, r.Error)
	}
	h, err := yarchive.ReadHeader(archive)
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, task := range e.srv.Tasks() {
		for _, tag := range task.SystemTags {
			if tag == clearml.RunTagPrefix+h.RunID {
				live = append(live, task.ID)
			}
		}
	}
	if len(live) != 1 || live[0] != r.RemoteID {
		t.Errorf("tasks carrying the run tag: %v, ours %s", live, r.RemoteID)
	}
}
