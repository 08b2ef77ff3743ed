package clearml

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// genuineSession is the SDK's own offline session of the fixture run.
func genuineSession() string {
	return filepath.Join(synctest.Fixtures(), "detect-clearml", "clearml_offline_session", "offline-65072dc9b8014849a4dc396a0eb301ec")
}

// rawEvents reads every event of a session's JSON-lines file, in order.
func rawEvents(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var evs []map[string]any
		if err := json.Unmarshal([]byte(line), &evs); err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
	}
	return out
}

// TestSession_CaptureKeepsEveryEvent captures the SDK's session, as a
// folder and as its zip, and finds every event of its metrics.jsonl and
// log.jsonl in the archive's tables, with its title, series, iteration,
// value and timestamp.
func TestSession_CaptureKeepsEveryEvent(t *testing.T) {
	folder := genuineSession()
	for _, src := range []string{folder, folder + ".zip"} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			run, err := ysync.Open(context.Background(), synctest.Capture(t, src))
			if err != nil {
				t.Fatal(err)
			}
			run.Scalars = synctest.Scalars(t, run) // streamed, not held
			defer run.Close()
			if run.Info.SourceKind != "clearml-offline" || run.Info.SessionID != "offline-65072dc9b8014849a4dc396a0eb301ec" ||
				run.Info.Name != "detect-clearml" || run.Info.Task != "detect" || run.Info.Status != "finished" || run.Info.EpochsCompleted != 3 {
				t.Errorf("run %+v", run.Info)
			}
			have := map[string]int{}
			for _, s := range run.Scalars {
				have[fmt.Sprintf("scalar|%s|%s|%d|%v|%d", s.Group, s.Metric, *s.Step, s.Value, s.WallTime.UnixMilli())]++
			}
			for _, s := range run.Summary {
				have[fmt.Sprintf("single|%s|%v", s.Key, s.Value)]++
			}
			for _, img := range run.Images {
				have[fmt.Sprintf("%s|%s|%s|%d|%d", img.Kind, img.Group, img.Series, *img.Step, img.WallTime.UnixMilli())]++
				if img.Blob == "" || img.Width == 0 || img.Record == "" {
					t.Errorf("image %+v", img)
				}
			}
			n := 0
			for _, e := range rawEvents(t, filepath.Join(folder, "metrics.jsonl")) {
				var k string
				iter := int64(e["iter"].(float64))
				ts := int64(e["timestamp"].(float64))
				switch e["type"] {
				case "training_stats_scalar":
					if iter == singleValueIter {
						k = fmt.Sprintf("single|%s|%v", e["variant"], e["value"])
					} else {
						k = fmt.Sprintf("scalar|%s|%s|%d|%v|%d", e["metric"], e["variant"], iter, e["value"], ts)
					}
				case "training_debug_image":
					k = fmt.Sprintf("debug_image|%s|%s|%d|%d", e["metric"], e["variant"], iter, ts)
				case "plot":
					k = fmt.Sprintf("plot|%s|%s|%d|%d", e["metric"], e["variant"], iter, ts)
				default:
					t.Fatalf("unexpected event type %v", e["type"])
				}
				if have[k] == 0 {
					t.Errorf("event not in the archive: %s", k)
				}
				have[k]--
				n++
			}
			for k, c := range have {
				if c != 0 {
					t.Errorf("archive row without a session event: %s (%d)", k, c)
				}
			}
			logs := rawEvents(t, filepath.Join(folder, "log.jsonl"))
			if len(logs) != len(run.Logs) {
				t.Fatalf("%d log events, archive has %d", len(logs), len(run.Logs))
			}
			for i, e := range logs {
				l := run.Logs[i]
				if l.Message != e["msg"] || l.Level != e["level"] || l.Worker != e["worker"] || l.Time.UnixMilli() != int64(e["timestamp"].(float64)) {
					t.Errorf("log %d: %+v, session %v", i, l, e)
				}
			}
			if n != 63 || len(logs) == 0 {
				t.Errorf("%d metric events, %d log events", n, len(logs))
			}
			roles := map[string]int{}
			for _, img := range run.Images {
				roles[img.Role]++
			}
			if roles["train_batch"] != 3 || roles["val_batch_labels"] != 1 || roles["results"] != 1 || roles["confusion_matrix"] != 1 {
				t.Errorf("image roles %v", roles)
			}
		})
	}
}

// TestSession_SyncMatchesSDKImport imports the SDK's session into the fake
// server the way Task.import_offline_session does, syncs the archive
// captured from that session online, and compares the two tasks: the
// same scalars, single values, debug images, plots and console log, with
// the same values and timestamps (ids, keys' folders and URLs aside), and
// the same hyperparameters and tags.
func TestSession_SyncMatchesSDKImport(t *testing.T) {
	srv := clearmltest.New()
	defer srv.Close()
	cfg := Config{APIHost: srv.API.URL, WebHost: srv.WebURL(), FilesHost: srv.Files.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	quick := ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond}
	// The session's project is the absolute path /home/trainer/runs,
	// which the server refuses (an empty first component): the SDK's
	// import of this session fails. Import a copy named as the sync names
	// it, home/trainer/runs.
	cp := filepath.Join(t.TempDir(), "session")
	if err := os.CopyFS(cp, os.DirFS(genuineSession())); err != nil {
		t.Fatal(err)
	}
	tj, _ := os.ReadFile(filepath.Join(cp, "task.json"))
	tj = []byte(strings.Replace(string(tj), `"project_name": "/home/trainer/runs"`, `"project_name": "home/trainer/runs"`, 1))
	if err := os.WriteFile(filepath.Join(cp, "task.json"), tj, 0o644); err != nil {
		t.Fatal(err)
	}
	imported := importSession(t, newClient(cfg, quick), cp, true)

	archive := synctest.Capture(t, genuineSession()+".zip")
	on := New(cfg, ysync.Options{})
	on.SetClientOptions(quick)
	res := ysync.One(context.Background(), archive, on, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	if res.Status != ysync.StatusSynced {
		t.Fatal(res.Error)
	}
	norm := func(task string, checkPlots bool) (map[string]string, []string) {
		out := map[string]string{}
		var logs []string
		for _, e := range srv.Events(task) {
			if e.Type == "log" {
				logs = append(logs, fmt.Sprintf("%d|%s|%s|%s", e.Timestamp, e.Level, e.Worker, e.Msg))
				continue
			}
			k := strings.Join([]string{e.Type, e.Metric, e.Variant, fmt.Sprint(e.Iter)}, "|")
			v := fmt.Sprintf("%v@%d", e.Value, e.Timestamp)
			if e.URL != "" {
				if _, ok := srv.File(strings.TrimPrefix(e.URL, srv.Files.URL+"/")); !ok {
					t.Errorf("%s: %s is not on the file server", k, e.URL)
				}
				v += " " + path.Base(e.Key)
			}
			if e.PlotStr != "" {
				var fig map[string]any
				if err := json.Unmarshal([]byte(e.PlotStr), &fig); err != nil {
					t.Fatal(err)
				}
				img := fig["layout"].(map[string]any)["images"].([]any)[0].(map[string]any)
				src, _ := url.PathUnescape(img["source"].(string))
				if _, ok := srv.File(strings.TrimPrefix(src, srv.Files.URL+"/")); !ok && checkPlots {
					t.Errorf("%s: plot image %s is not on the file server", k, src)
				}
				img["source"] = path.Base(src)
				b, _ := json.Marshal(fig)
				v += " " + string(b)
			}
			out[k] = v
		}
		sort.Strings(logs)
		return out, logs
	}
	// The SDK's import loses this session's plot images: it keeps two
	// components of their folder (runs/detect-clearml) while the files sit
	// under home/trainer/runs/detect-clearml (clearml-api.md §5.5). The
	// sync uploads them; the figures are otherwise the same.
	want, wantLogs := norm(imported, false)
	got, gotLogs := norm(res.RemoteID, true)
	if len(want) < 40 || len(got) != len(want) {
		t.Errorf("synced %d events, the SDK import %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n synced %s\n import %s", k, got[k], w)
		}
	}
	if strings.Join(gotLogs, "\n") != strings.Join(wantLogs, "\n") || len(wantLogs) == 0 {
		t.Errorf("console log: synced %d events, the import %d", len(gotLogs), len(wantLogs))
	}
	a, _ := srv.Task(imported)
	b, _ := srv.Task(res.RemoteID)
	for sec, items := range a.Hyperparams {
		for k, it := range items {
			if g := b.Hyperparams[sec][k]; g.Value != it.Value || g.Type != it.Type {
				t.Errorf("hyperparameter %s/%s = %q (%s), import %q (%s)", sec, k, g.Value, g.Type, it.Value, it.Type)
			}
		}
	}
	if strings.Join(a.Tags, ",") != strings.Join(b.Tags, ",") || a.Name != b.Name {
		t.Errorf("tags/name %v %q, import %v %q", b.Tags, b.Name, a.Tags, a.Name)
	}
}

// TestSession_RoundTripOffline captures the SDK's session and writes it
// back as a session with --to clearml-offline: the same metric and log
// events (type, title, series, iteration, value, timestamp, file name)
// in the same order, and the same hyperparameters, apart from ids.
func TestSession_RoundTripOffline(t *testing.T) {
	archive := synctest.Capture(t, genuineSession())
	dir := t.TempDir()
	res := ysync.One(context.Background(), archive, NewOffline(dir, ysync.Options{}), ysync.BatchOptions{})
	if res.Status != ysync.StatusWritten {
		t.Fatal(res.Error)
	}
	folder := filepath.Join(dir, res.RemoteID)
	sig := func(e map[string]any) string {
		s := fmt.Sprintf("%v|%v|%v|%v|%v|%v|%v|%v", e["type"], e["metric"], e["variant"], e["iter"], e["value"], e["timestamp"], e["level"], e["msg"])
		if k, ok := e["key"].(string); ok {
			s += "|" + path.Base(k)
		}
		if ps, ok := e["plot_str"].(string); ok {
			var fig map[string]any
			json.Unmarshal([]byte(ps), &fig)
			img := fig["layout"].(map[string]any)["images"].([]any)[0].(map[string]any)
			img["source"] = path.Base(img["source"].(string))
			b, _ := json.Marshal(fig)
			s += "|" + string(b)
		}
		return s
	}
	for _, file := range []string{"metrics.jsonl", "log.jsonl"} {
		want, got := rawEvents(t, filepath.Join(genuineSession(), file)), rawEvents(t, filepath.Join(folder, file))
		if len(got) != len(want) {
			t.Fatalf("%s: %d events, the SDK wrote %d", file, len(got), len(want))
		}
		ws := make([]string, len(want))
		gs := make([]string, len(got))
		for i := range want {
			ws[i], gs[i] = sig(want[i]), sig(got[i])
			if got[i]["task"] != res.RemoteID {
				t.Errorf("%s event %d names task %v", file, i, got[i]["task"])
			}
		}
		// Single values are written after the session's other events:
		// compare sorted.
		sort.Strings(ws)
		sort.Strings(gs)
		for i := range ws {
			if ws[i] != gs[i] {
				t.Errorf("%s:\n wrote %s\n   SDK %s", file, gs[i], ws[i])
			}
		}
	}
	var a, b struct {
		Name        string
		Tags        []string
		Hyperparams map[string]map[string]map[string]any
	}
	ja, _ := os.ReadFile(filepath.Join(genuineSession(), "task.json"))
	jb, _ := os.ReadFile(filepath.Join(folder, "task.json"))
	json.Unmarshal(ja, &a)
	json.Unmarshal(jb, &b)
	if a.Name != b.Name || strings.Join(a.Tags, ",") != strings.Join(b.Tags, ",") || len(a.Hyperparams) != len(b.Hyperparams) {
		t.Errorf("task %s %v %d sections, SDK %s %v %d", b.Name, b.Tags, len(b.Hyperparams), a.Name, a.Tags, len(a.Hyperparams))
	}
	for sec, items := range a.Hyperparams {
		for k, it := range items {
			g := b.Hyperparams[sec][k]
			if g["value"] != it["value"] || g["type"] != it["type"] {
				t.Errorf("%s/%s = %v (%v), SDK %v (%v)", sec, k, g["value"], g["type"], it["value"], it["type"])
			}
		}
	}
}

// TestSession_ReplayKeepsGaps writes a run directory's archive as a
// session and captures that: the run id, the gaps and the approximate
// single values of the first archive come back, not claims of exactness.
func TestSession_ReplayKeepsGaps(t *testing.T) {
	first := synctest.Capture(t, "detect")
	dir := t.TempDir()
	res := ysync.One(context.Background(), first, NewOffline(dir, ysync.Options{}), ysync.BatchOptions{})
	if res.Status != ysync.StatusWritten {
		t.Fatal(res.Error)
	}
	a, err := ysync.Open(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := ysync.Open(context.Background(), synctest.Capture(t, res.Output))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.RunID() != b.RunID() {
		t.Errorf("run id %s, first archive %s", b.RunID(), a.RunID())
	}
	have := map[string]bool{}
	for _, g := range b.Gaps {
		have[g.Item] = true
	}
	for _, g := range a.Gaps {
		if !have[g.Item] {
			t.Errorf("gap %s lost", g.Item)
		}
	}
	for _, s := range b.Summary {
		if s.Exact && (s.Key == "fitness" || strings.HasPrefix(s.Key, "metrics/")) {
			t.Errorf("summary %s claims to be exact", s.Key)
		}
	}
}

// TestSessionPlan_StreamedAsHeld: a session's scalars, logged in time
// order, stream from the table with its images merged in by time; held
// and sorted with the images (what a session logged out of order gets),
// they give the same events, byte for byte.
func TestSessionPlan_StreamedAsHeld(t *testing.T) {
	ctx := context.Background()
	run, err := ysync.Open(ctx, synctest.Capture(t, genuineSession()))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	lines := func() (string, *plan) {
		p, err := buildPlan(ctx, run, ysync.Options{}, "0123456789abcdef0123456789abcdef", online("http://files.test"))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		err = batchLines(ctx, newLineEncoder(p.task), p.each, 1<<10, false, func(body []byte, n int) error {
			fmt.Fprintf(&b, "%d\n%s", n, body)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return b.String(), p
	}
	streamed, p := lines()
	if p.scalars == nil || len(p.timed) == 0 {
		t.Fatalf("the session's scalars are held (%v) or it has no images (%d)", p.scalars == nil, len(p.timed))
	}
	holdSessionScalars = true
	defer func() { holdSessionScalars = false }()
	held, p := lines()
	if p.scalars != nil {
		t.Fatal("scalars still streamed")
	}
	if streamed != held {
		t.Errorf("streamed and held plans differ:\n%s\n---\n%s", streamed, held)
	}
}
