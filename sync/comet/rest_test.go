package comet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

type env struct {
	srv   *comettest.Server
	cfg   comet.Config
	r     *comet.Destination
	store *ysync.Store
}

// newEnv starts a test server answering lookups of what does not exist
// as newer servers do (404); newEnvMode chooses.
func newEnv(t testing.TB) *env { return newEnvMode(t, comettest.NotFound404) }

func newEnvMode(t testing.TB, mode comettest.NotFound) *env {
	srv := comettest.New()
	srv.NotFound = mode
	t.Cleanup(srv.Close)
	t.Cleanup(func() { noInvalidRequests(t, srv) })
	e := &env{srv: srv, store: &ysync.Store{Dir: t.TempDir()},
		cfg: comet.Config{APIKey: srv.APIKey, URL: srv.URLOverride()}}
	e.r = e.remote(t, comet.Options{})
	return e
}

// noInvalidRequests fails t if the server refused a malformed request:
// every request the client sends must pass the server's schemas (a 400
// may otherwise hide, e.g. where a lookup takes 400 as "not found").
func noInvalidRequests(t testing.TB, srv *comettest.Server) {
	t.Helper()
	for _, r := range srv.InvalidRequests() {
		t.Errorf("the server refused a malformed request: %s", r)
	}
}

// forModes runs f once against each kind of server: one that answers
// lookups of what does not exist with 404, and one with 400.
func forModes(t *testing.T, f func(t *testing.T, mode comettest.NotFound)) {
	for _, mode := range comettest.NotFoundModes {
		t.Run(mode.String(), func(t *testing.T) { f(t, mode) })
	}
}

func (e *env) remote(t testing.TB, o comet.Options) *comet.Destination {
	r, err := comet.New(e.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	r.SetClientOptions(ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond, RetryMax: 10,
		Limiter: rate.NewLimiter(rate.Inf, 0)})
	return r
}

func (e *env) sync(t testing.TB, ctx context.Context, archive string, opts ysync.BatchOptions) ysync.Result {
	t.Helper()
	if opts.Store == nil {
		opts.Store = e.store
	}
	return ysync.One(ctx, archive, e.r, opts)
}

// state describes an experiment for comparisons: metric points as a
// sorted multiset, parameters, others, assets, times and status.
func state(t *testing.T, srv *comettest.Server) string {
	t.Helper()
	exps := srv.Experiments()
	if len(exps) != 1 {
		t.Fatalf("%d experiments, want 1", len(exps))
	}
	x := exps[0]
	var lines []string
	for _, m := range x.Metrics {
		lines = append(lines, fmt.Sprintf("metric %s %v/%v = %v", m.Name, deref(m.Step), deref(m.Epoch), m.Value))
	}
	for k, p := range x.Params {
		lines = append(lines, fmt.Sprintf("param %s = %v", k, p.Value))
	}
	for k, v := range x.Others {
		lines = append(lines, fmt.Sprintf("other %s = %s", k, v))
	}
	for _, a := range x.Assets {
		lines = append(lines, fmt.Sprintf("asset %s %s step %v epoch %v group %s size %d sha %s meta %s", a.FileName, a.Type, deref(a.Step), deref(a.Epoch), a.GroupingName, a.Size, a.SHA256, a.Metadata))
	}
	lines = append(lines, fmt.Sprintf("project %s name %s start %d end %v alive %v tags %v", x.Project, x.Name, x.StartMillis, deref(x.EndMillis), x.Alive, x.Tags))
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestREST_FixtureEqualsCallback syncs each fixture run and checks the
// stored experiment against the Log (itself checked against the
// callback's recorded calls by the Build tests).
func TestREST_FixtureEqualsCallback(t *testing.T) {
	for _, run := range fixtureRuns {
		e := newEnv(t)
		archive := synctest.Capture(t, run)
		res := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if res.Status != ysync.StatusSynced {
			t.Fatalf("%s: %s %s", run, res.Status, res.Error)
		}
		l, _ := build(t, run)
		x, _ := e.srv.Experiment(res.RemoteID)
		var want, got []string
		for _, c := range l.Calls {
			for _, m := range c.Metrics {
				want = append(want, fmt.Sprintf("%s %d/%d %g", m.Name, *c.Step, *c.Epoch, m.Value))
			}
		}
		for _, m := range x.Metrics {
			got = append(got, fmt.Sprintf("%s %v/%v %v", m.Name, deref(m.Step), deref(m.Epoch), m.Value))
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: metrics differ:\n got %v\nwant %v", run, got, want)
		}
		// Parameters, others, images, times, status.
		for _, kv := range l.Calls[0].Params {
			p, ok := x.Params[kv.Key]
			if !ok {
				t.Errorf("%s: parameter %s missing", run, kv.Key)
				continue
			}
			if list, isList := kv.Value.([]any); isList {
				b, _ := json.Marshal(list)
				if p.Value != string(b) {
					t.Errorf("%s: parameter %s = %v, want %s", run, kv.Key, p.Value, b)
				}
			} else if !jsonEqual(p.Value, kv.Value) {
				t.Errorf("%s: parameter %s = %#v, want %#v", run, kv.Key, p.Value, kv.Value)
			}
		}
		if x.Others["Created from"] != "ultralytics" || x.Others[comet.RunIDOther] != res.RunID || x.Others["max_image_predictions"] != "100" {
			t.Errorf("%s: others %v", run, x.Others)
		}
		images := map[string]comettest.Asset{}
		for _, a := range x.Assets {
			if a.Type == "image" {
				images[strings.TrimSuffix(a.FileName, filepath.Ext(a.FileName))] = a
			}
		}
		for _, c := range l.Calls {
			if c.Kind != comet.KindImage {
				continue
			}
			a, ok := images[c.Name]
			if !ok || fmt.Sprint(deref(a.Step)) != fmt.Sprint(deref(c.Step)) {
				t.Errorf("%s: image %s: stored %v step %v, want step %v", run, c.Name, ok, deref(a.Step), deref(c.Step))
				continue
			}
			if len(c.Annotations) > 0 {
				var meta struct{ Annotations []any }
				json.Unmarshal([]byte(a.Metadata), &meta)
				if len(meta.Annotations) != len(c.Annotations) {
					t.Errorf("%s: image %s: %d annotation layers, want %d", run, c.Name, len(meta.Annotations), len(c.Annotations))
				}
			}
		}
		if x.Alive || x.HasCrashed || x.EndMillis == nil || *x.EndMillis != l.End.UnixMilli() || x.StartMillis != l.Start.UnixMilli() {
			t.Errorf("%s: alive %v start %d end %v, want %d–%d", run, x.Alive, x.StartMillis, deref(x.EndMillis), l.Start.UnixMilli(), l.End.UnixMilli())
		}
		if x.Project != "home-trainer-runs" || x.Name != run || x.Workspace != e.srv.Workspace {
			t.Errorf("%s: placed in %s/%s as %s", run, x.Workspace, x.Project, x.Name)
		}
	}
}

func TestREST_TwiceAndOtherMachine(t *testing.T) {
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		archive := synctest.Capture(t, "segment-savejson")
		first := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if first.Status != ysync.StatusSynced {
			t.Fatal(first.Error)
		}
		clean := state(t, e.srv)
		second := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		other := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
		if second.Status != ysync.StatusUpToDate || other.Status != ysync.StatusUpToDate || other.RemoteID != first.RemoteID {
			t.Fatalf("second %s %s, other machine %s %s", second.Status, second.Error, other.Status, other.Error)
		}
		if got := state(t, e.srv); got != clean {
			t.Error("re-syncs changed the experiment")
		}
		if n := e.srv.Calls("write/experiment/create"); n != 1 {
			t.Errorf("create called %d times", n)
		}
	})
}

func TestREST_CancelledThenResumed(t *testing.T) {
	archive := synctest.Capture(t, "segment-savejson")
	ref := newEnv(t)
	full := ref.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if full.Status != ysync.StatusSynced {
		t.Fatal(full.Error)
	}
	clean := state(t, ref.srv)
	// Kill points spread over the whole sync: setup, the create (request
	// 3: its answer never read), the batches, the uploads, the read-back,
	// the end.
	total := int(full.Requests)
	for _, n := range []int{2, 3, 5, total / 4, total / 2, 3 * total / 4, total - 3, total - 1} {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		e.srv.Faults.CancelAfter(n, cancel)
		r := e.sync(t, ctx, archive, ysync.BatchOptions{})
		cancel()
		if r.Status == ysync.StatusSynced {
			t.Fatalf("cancel after %d: synced anyway", n)
		}
		e.srv.Faults.Clear()
		if r = e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
			t.Fatalf("resume after %d: %s %s", n, r.Status, r.Error)
		}
		if got := state(t, e.srv); got != clean {
			t.Errorf("resume after %d requests differs from a clean sync:\n%s\n---\n%s", n, got, clean)
		}
	}
}

func TestREST_UnderFaults(t *testing.T) {
	archive := synctest.Capture(t, "segment-savejson")
	ref := newEnv(t)
	if r := ref.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	clean := state(t, ref.srv)
	e := newEnv(t)
	e.srv.Faults.Random(11, 0.25, synctest.Fault{Kind: synctest.TooMany, RetryAfter: time.Millisecond}, synctest.Fault{Kind: synctest.ServerError}, synctest.Fault{Kind: synctest.Reset})
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("%s %s", r.Status, r.Error)
	}
	if inj := e.srv.Faults.Injected(); inj["429"] == 0 || inj["500"] == 0 || inj["reset"] == 0 {
		t.Fatalf("faults injected %v", inj)
	}
	if got := state(t, e.srv); got != clean {
		t.Errorf("sync under faults differs from a clean sync:\n%s\n---\n%s", got, clean)
	}
}

func TestREST_BadInput(t *testing.T) {
	archive := synctest.Capture(t, "detect")
	t.Run("bad key", func(t *testing.T) {
		e := newEnv(t)
		e.cfg.APIKey = "WRONGKEY0123456789SECRET"
		e.r = e.remote(t, comet.Options{})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "rejected the API key") || strings.Contains(r.Error, "WRONGKEY") {
			t.Errorf("%s: %s", r.Status, r.Error)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		e := newEnv(t)
		e.cfg.URL = "http://127.0.0.1:1/clientlib/"
		e.r = e.remote(t, comet.Options{})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "unreachable") {
			t.Errorf("%s: %s", r.Status, r.Error)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Faults.Random(3, 1, synctest.Fault{Kind: synctest.Garbage})
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "not") || len(e.srv.Experiments()) != 0 {
			t.Errorf("%s: %s", r.Status, r.Error)
		}
	})
	t.Run("corrupt archive", func(t *testing.T) {
		e := newEnv(t)
		data, _ := os.ReadFile(archive)
		bad := filepath.Join(t.TempDir(), "bad.tar.zst")
		os.WriteFile(bad, data[:len(data)/2], 0o644)
		r := e.sync(t, context.Background(), bad, ysync.BatchOptions{})
		if r.Status != ysync.StatusFailed || !strings.Contains(r.Error, "bad.tar.zst") || len(e.srv.Experiments()) != 0 {
			t.Errorf("%s: %s", r.Status, r.Error)
		}
	})
}

func TestREST_Model(t *testing.T) {
	e := newEnv(t)
	archive := synctest.Capture(t, synctest.WithWeights(t, "detect"))
	for i := 0; i < 2; i++ {
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
		if !r.OK() {
			t.Fatalf("sync %d: %s %s", i, r.Status, r.Error)
		}
	}
	x := e.srv.Experiments()[0]
	var models []comettest.Asset
	for _, a := range x.Assets {
		if a.Type == "model-element" {
			models = append(models, a)
		}
	}
	want, _ := os.ReadFile(synctest.Checkpoint())
	if len(models) != 1 || models[0].FileName != "best.pt" || models[0].GroupingName != "Ultralytics" || string(models[0].Data) != string(want) {
		t.Errorf("model assets %+v", models)
	}
	// The offline zip carries it as the SDK's log_model does.
	dir := t.TempDir()
	res := writeZip(t, archive, dir)
	entries := readZip(t, res.Output)
	if !strings.Contains(string(entries["messages.json"]), `"groupingName":"Ultralytics"`) ||
		!strings.Contains(string(entries["messages.json"]), `"upload_type":"model-element"`) {
		t.Errorf("no model-element upload in messages.json")
	}
}

func TestREST_Force(t *testing.T) {
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		archive := synctest.Capture(t, "detect")
		first := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		forced := e.sync(t, context.Background(), archive, ysync.BatchOptions{Force: true})
		if first.Status != ysync.StatusSynced || forced.Status != ysync.StatusSynced || forced.RemoteID == first.RemoteID {
			t.Fatalf("first %s %s, forced %s %s", first.Status, first.RemoteID, forced.Status, forced.RemoteID)
		}
		again := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
		if again.RemoteID != forced.RemoteID || again.Status != ysync.StatusUpToDate {
			t.Errorf("after --force a lookup found %s (%s), want %s", again.RemoteID, again.Status, forced.RemoteID)
		}
	})
}

// TestREST_MarkerLostAfterCreate: the experiment is created but logging
// its run-id marker keeps failing; the re-run must adopt that experiment,
// not make a second one.
func TestREST_MarkerLostAfterCreate(t *testing.T) {
	forModes(t, func(t *testing.T, mode comettest.NotFound) {
		e := newEnvMode(t, mode)
		archive := synctest.Capture(t, "detect")
		e.srv.Faults.Next(50, synctest.Fault{Kind: synctest.ServerError, Match: "write/experiment/log-other"})
		if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusFailed {
			t.Fatalf("first sync: %s", r.Status)
		}
		e.srv.Faults.Clear()
		r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
		if r.Status != ysync.StatusSynced {
			t.Fatalf("re-run: %s %s", r.Status, r.Error)
		}
		if n := len(e.srv.Experiments()); n != 1 {
			t.Errorf("%d experiments", n)
		}
	})
}
