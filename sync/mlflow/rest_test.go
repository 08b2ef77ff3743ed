package mlflow_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/mlflowtest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
	"github.com/yoloarchive/yoloarchive/sync/synctest/faults"
)

type env struct {
	srv   *mlflowtest.Server
	store *ysync.Store
	cfg   mlflow.Config
	r     *mlflow.Destination
}

// newEnv starts a fake server (changed by setup before its first
// request) and a Destination with fast retries that reaches it.
func newEnv(t testing.TB, setup func(*mlflowtest.Server)) *env {
	srv := mlflowtest.New()
	if setup != nil {
		setup(srv)
	}
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		for _, r := range srv.InvalidRequests() {
			t.Errorf("the server refused a malformed request: %s", r)
		}
	})
	cfg := mlflow.Config{TrackingURI: srv.URL}
	switch srv.Auth {
	case mlflowtest.AuthBasic:
		cfg.Username, cfg.Password = srv.Username, srv.Password
	case mlflowtest.AuthBearer:
		cfg.Token = srv.Token
	}
	e := &env{srv: srv, store: &ysync.Store{Dir: t.TempDir()}, cfg: cfg}
	e.r = e.remote(cfg, mlflow.Options{})
	return e
}

func (e *env) remote(cfg mlflow.Config, o mlflow.Options) *mlflow.Destination {
	r := mlflow.New(cfg, o)
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

// runState describes the server's only run for comparisons, without its
// id: experiment, name, times, status, params, tags but the run id's,
// every metric's history as a sorted multiset, artifacts by digest.
func runState(t testing.TB, srv *mlflowtest.Server) string {
	t.Helper()
	runs := srv.Runs()
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	r := runs[0]
	var exp string
	for _, x := range srv.Experiments() {
		if x.ID == r.Info.ExperimentID {
			exp = x.Name
		}
	}
	var lines []string
	end := "none"
	if r.Info.EndTime != nil {
		end = fmt.Sprint(*r.Info.EndTime)
	}
	lines = append(lines, fmt.Sprintf("run experiment %q name %q start %d end %s status %s", exp, r.Info.RunName, r.Info.StartTime, end, r.Info.Status))
	for k, v := range r.Params {
		lines = append(lines, fmt.Sprintf("param %s = %q", k, v))
	}
	for k, v := range r.Tags {
		lines = append(lines, fmt.Sprintf("tag %s = %q", k, v))
	}
	for k, h := range r.Metrics {
		for _, m := range h {
			lines = append(lines, fmt.Sprintf("metric %s step %d at %d = %v", k, m.Step, m.Timestamp, m.Value))
		}
	}
	for p, b := range r.Artifacts {
		lines = append(lines, fmt.Sprintf("artifact %s %x", p, sha256.Sum256(b)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// planState is runState of what the plan says the callback logs.
func planState(t testing.TB, dir string, p *mlflow.Plan) string {
	t.Helper()
	var lines []string
	end := "none"
	if !p.End.IsZero() {
		end = fmt.Sprint(p.End.UnixMilli())
	}
	lines = append(lines, fmt.Sprintf("run experiment %q name %q start %d end %s status %s", p.Experiment, p.RunName, p.Start.UnixMilli(), end, p.Status))
	for _, kv := range p.Params {
		lines = append(lines, fmt.Sprintf("param %s = %q", kv.Key, kv.Value))
	}
	for _, kv := range p.Tags {
		lines = append(lines, fmt.Sprintf("tag %s = %q", kv.Key, kv.Value))
	}
	for _, m := range planPoints(t, p) {
		lines = append(lines, fmt.Sprintf("metric %s step %d at %d = %v", m.Key, m.Step, m.Timestamp, m.Value))
	}
	for _, a := range p.Artifacts {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(a.Path)))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("artifact %s %x", a.Path, sha256.Sum256(b)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestREST_CallbackContract: a sync leaves on the server exactly what the
// callback would have logged (the plan, with artifacts equal to the run
// directory's files), against every kind of server: paged or unpaged
// metric history, long values refused or truncated, no auth, basic auth,
// a bearer token.
func TestREST_CallbackContract(t *testing.T) {
	dir := synctest.WithWeights(t, "detect")
	archive := synctest.Capture(t, dir)
	run := open(t, dir)
	p, err := mlflow.BuildPlan(context.Background(), run, mlflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := planState(t, dir, p)
	for _, h := range mlflowtest.HistoryModes {
		for _, lv := range mlflowtest.LongValueModes {
			for _, auth := range []mlflowtest.Auth{mlflowtest.AuthNone, mlflowtest.AuthBasic, mlflowtest.AuthBearer} {
				t.Run(fmt.Sprintf("%s/%d/%d", h, lv, auth), func(t *testing.T) {
					e := newEnv(t, func(s *mlflowtest.Server) { s.History, s.LongValues, s.Auth = h, lv, auth })
					r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
					if r.Status != ysync.StatusSynced {
						t.Fatalf("%s: %s", r.Status, r.Error)
					}
					if got := runState(t, e.srv); got != want {
						t.Fatalf("the server holds\n%s\nwant\n%s", got, want)
					}
					if !strings.HasSuffix(r.URL, "/runs/"+r.RemoteID) || r.RemoteID != e.srv.Runs()[0].Info.RunID {
						t.Errorf("result names %s %s", r.RemoteID, r.URL)
					}
					if p.Status != filestore.Finished || len(p.Artifacts) == 0 {
						t.Fatalf("the plan should end the run and upload: %v, %d artifacts", p.Status, len(p.Artifacts))
					}
				})
			}
		}
	}
}

// TestREST_ReRunSendsOnlyReads: a second sync of a synced archive is up
// to date and writes nothing, from the same machine (checkpoint) or
// another (no checkpoint: found by the run id tag, read back whole).
func TestREST_ReRunSendsOnlyReads(t *testing.T) {
	archive := synctest.Capture(t, synctest.WithWeights(t, "detect"))
	for _, h := range mlflowtest.HistoryModes {
		t.Run(h.String(), func(t *testing.T) {
			e := newEnv(t, func(s *mlflowtest.Server) { s.History = h })
			if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
				t.Fatalf("%s: %s", r.Status, r.Error)
			}
			clean := runState(t, e.srv)
			for _, machine := range []struct {
				name  string
				store *ysync.Store
			}{{"same machine", e.store}, {"second machine", &ysync.Store{Dir: t.TempDir()}}} {
				e.srv.Faults.ResetLog()
				r := e.sync(t, context.Background(), archive, ysync.BatchOptions{Store: machine.store})
				if r.Status != ysync.StatusUpToDate {
					t.Fatalf("%s: %s %s", machine.name, r.Status, r.Error)
				}
				for _, q := range e.srv.Faults.Requests() {
					if q.Method != http.MethodGet && !strings.HasSuffix(q.Path, "runs/search") {
						t.Errorf("%s: sent %s %s", machine.name, q.Method, q.Path)
					}
				}
				if got := runState(t, e.srv); got != clean {
					t.Errorf("%s: the run changed:\n%s\n---\n%s", machine.name, got, clean)
				}
			}
		})
	}
}

// cleanSync captures the run directory run and syncs it whole to a
// fresh server, returning the archive, the sync's result, the run it left
// (runState), which a sync under faults must match, and the log-batch
// requests it took.
func cleanSync(t *testing.T, run string) (archive string, full ysync.Result, clean string, batches int) {
	t.Helper()
	archive = synctest.Capture(t, run)
	ref := newEnv(t, nil)
	full = ref.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if full.Status != ysync.StatusSynced {
		t.Fatal(full.Error)
	}
	return archive, full, runState(t, ref.srv), ref.srv.Calls("runs/log-batch")
}

// TestREST_KilledAtEveryRequest: a sync killed at any of its requests,
// then run again, leaves exactly what a clean sync leaves: one run, no
// point twice (a batch whose answer was cut off is read back before it
// is resent).
func TestREST_KilledAtEveryRequest(t *testing.T) {
	archive, full, clean, batches := cleanSync(t, synctest.SynthRun(t, 80, 0, 0))
	t.Logf("%d requests, %d of them log-batch", full.Requests, batches)
	if batches < 3 {
		t.Fatalf("%d log-batch requests: the run should need several", batches)
	}
	for n := 1; n <= int(full.Requests); n++ {
		e := newEnv(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		e.srv.Faults.CancelAfter(n, cancel)
		r := e.sync(t, ctx, archive, ysync.BatchOptions{})
		cancel()
		e.srv.Faults.WaitQuiet()
		e.srv.Faults.Clear()
		if r.Status != ysync.StatusInterrupted && r.Status != ysync.StatusSynced {
			t.Fatalf("killed at request %d: %s %s", n, r.Status, r.Error)
		}
		if r = e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced && r.Status != ysync.StatusUpToDate {
			t.Fatalf("killed at request %d, then: %s %s", n, r.Status, r.Error)
		}
		if got := runState(t, e.srv); got != clean {
			t.Fatalf("killed at request %d: differs from a clean sync:\n%s\n---\n%s", n, got, clean)
		}
		if m := e.srv.Calls("runs/log-batch"); m > batches+1 {
			t.Errorf("killed at request %d: %d log-batch requests, want at most %d", n, m, batches+1)
		}
	}
}

// TestREST_Faults: 429 (with Retry-After), 500 and connection resets on
// the writes are retried or repaired, and the run equals a clean sync's.
func TestREST_Faults(t *testing.T) {
	archive, _, clean, _ := cleanSync(t, synctest.SynthRun(t, 90, 0, 1))
	for _, tc := range []struct {
		name  string
		fault faults.Fault
		n     int
	}{
		{"429 on log-batch", faults.Fault{Kind: faults.TooMany, Match: "runs/log-batch", RetryAfter: 300 * time.Millisecond}, 2},
		{"500 on log-batch", faults.Fault{Kind: faults.ServerError, Match: "runs/log-batch"}, 2},
		{"reset on log-batch", faults.Fault{Kind: faults.Reset, Match: "runs/log-batch"}, 2},
		{"500 on create", faults.Fault{Kind: faults.ServerError, Match: "runs/create"}, 1},
		{"reset on create", faults.Fault{Kind: faults.Reset, Match: "runs/create"}, 1},
		{"500 on the artifacts", faults.Fault{Kind: faults.ServerError, Match: "mlflow-artifacts"}, 2},
		{"502 on the history", faults.Fault{Kind: faults.BadGateway, Match: "get-history"}, 3},
		{"reset on update", faults.Fault{Kind: faults.Reset, Match: "runs/update"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.Faults.Next(tc.n, tc.fault)
			r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
			if r.Status != ysync.StatusSynced {
				t.Fatalf("%s %s", r.Status, r.Error)
			}
			if got := runState(t, e.srv); got != clean {
				t.Errorf("differs from a clean sync:\n%s\n---\n%s", got, clean)
			}
			// A create is not repeated blindly: the run id tag is searched
			// first, then the create is sent once more.
			if strings.HasSuffix(tc.name, "on create") {
				if n := e.srv.Calls("runs/create"); n != 1 || e.srv.Calls("runs/search") != 2 {
					t.Errorf("%d creates reached the server, %d searches; want 1 and 2", n, e.srv.Calls("runs/search"))
				}
			} else if r.Retries == 0 {
				t.Errorf("no retries counted")
			}
		})
	}
}

// TestREST_BadCredentials: refused credentials (401 from the basic-auth
// app, 403 from a proxy) fail the preflight in one line that names what
// to set, and never show the secret.
func TestREST_BadCredentials(t *testing.T) {
	for _, tc := range []struct {
		name string
		auth mlflowtest.Auth
		cfg  func(*mlflow.Config)
		want string
	}{
		{"none given", mlflowtest.AuthBasic, func(c *mlflow.Config) {}, "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"},
		{"wrong password", mlflowtest.AuthBasic, func(c *mlflow.Config) { c.Username, c.Password = "admin", "s3cret-wrong" }, "check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"},
		{"wrong token", mlflowtest.AuthBearer, func(c *mlflow.Config) { c.Token = "s3cret-wrong" }, "check MLFLOW_TRACKING_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(s *mlflowtest.Server) { s.Auth = tc.auth })
			cfg := mlflow.Config{TrackingURI: e.srv.URL}
			tc.cfg(&cfg)
			_, err := ysync.Preflight(context.Background(), e.remote(cfg, mlflow.Options{}), nil)
			checkRefused(t, err, tc.want)
		})
	}
	t.Run("403", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error_code": "PERMISSION_DENIED", "message": "Permission denied"}`)
		}))
		defer srv.Close()
		e := &env{}
		_, err := ysync.Preflight(context.Background(), e.remote(mlflow.Config{TrackingURI: srv.URL, Token: "s3cret-wrong"}, mlflow.Options{}), nil)
		checkRefused(t, err, "PERMISSION_DENIED")
	})
}

func checkRefused(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatal("preflight passed")
	}
	msg := err.Error()
	if ysync.Classify(err) != ysync.CauseCredentials || !strings.Contains(msg, want) || strings.Contains(msg, "\n") || strings.Contains(msg, "s3cret") || strings.Contains(msg, mlflowtest.DefaultPassword) {
		t.Errorf("cause %q, error %q, want one line with %q and no secret", ysync.Classify(err), msg, want)
	}
}

// TestREST_UnreachableNamesVariable: a server that cannot be reached is
// one line naming MLFLOW_TRACKING_URI (the conformance suite checks the
// cause and the time bound).
func TestREST_UnreachableNamesVariable(t *testing.T) {
	url := synctest.UnreachableURL(t, synctest.Closed)
	e := &env{}
	_, err := ysync.Preflight(context.Background(), e.remote(mlflow.Config{TrackingURI: url}, mlflow.Options{}), nil)
	if err == nil || ysync.Classify(err) != ysync.CauseUnreachable || !strings.Contains(err.Error(), "MLFLOW_TRACKING_URI") {
		t.Fatalf("%v (cause %q)", err, ysync.Classify(err))
	}
}

// TestREST_ForceRetagsTheOldRun: --force makes a second run and retags
// the first "replaced:<run id>" (MLflow cannot delete a run's tag
// history); the conformance suite checks the rest of --force and the dry
// runs.
func TestREST_ForceRetagsTheOldRun(t *testing.T) {
	archive := synctest.Capture(t, synctest.SynthRun(t, 5, 0, 0))
	e := newEnv(t, nil)
	if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{Force: true})
	if r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	runs := e.srv.Runs()
	if len(runs) != 2 || !strings.HasPrefix(runs[0].Tags[mlflow.TagRunID], "replaced:") || runs[1].Info.RunID != r.RemoteID {
		t.Fatalf("after --force: %d runs, first tagged %q", len(runs), runs[0].Tags[mlflow.TagRunID])
	}
}

// TestREST_NotMLflow: an address that answers, but not as MLflow (a web
// server's HTML 404), fails the preflight in one line instead of passing
// as "the experiment does not exist yet".
func TestREST_NotMLflow(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	e := &env{}
	_, err := ysync.Preflight(context.Background(), e.remote(mlflow.Config{TrackingURI: srv.URL}, mlflow.Options{}), nil)
	if err == nil || !strings.Contains(err.Error(), "is MLFLOW_TRACKING_URI the tracking server") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%v", err)
	}
}

// lossy forwards requests and, for the metric log-batches it is told,
// loses the server's answer after the server acted on it (a proxy's 502).
type lossy struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	seen int
	lose map[int]bool
}

func (l *lossy) RoundTrip(r *http.Request) (*http.Response, error) {
	isBatch := false
	if strings.HasSuffix(r.URL.Path, "runs/log-batch") && r.GetBody != nil {
		body, _ := r.GetBody()
		b, _ := io.ReadAll(body)
		isBatch = strings.Contains(string(b), `"metrics"`)
	}
	resp, err := l.rt.RoundTrip(r)
	if err != nil || !isBatch {
		return resp, err
	}
	l.mu.Lock()
	l.seen++
	lose := l.lose[l.seen]
	l.mu.Unlock()
	if !lose {
		return resp, nil
	}
	resp.Body.Close()
	return &http.Response{StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Header: http.Header{"Content-Type": {"text/html"}},
		Body: io.NopCloser(strings.NewReader("<html>502 Bad Gateway</html>")), Request: r}, nil
}

// TestREST_MetricBatchAnswerLost: a metric batch the server applied but
// whose answer was lost is read back, not resent: the run equals a clean
// sync's and no point is logged twice.
func TestREST_MetricBatchAnswerLost(t *testing.T) {
	archive, _, clean, batches := cleanSync(t, synctest.SynthRun(t, 160, 0, 0))
	e := newEnv(t, nil)
	e.r.SetClientOptions(ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond, RetryMax: 10,
		Transport: &lossy{rt: http.DefaultTransport, lose: map[int]bool{1: true, 3: true}}})
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("%s %s", r.Status, r.Error)
	}
	if got := runState(t, e.srv); got != clean {
		t.Fatalf("differs from a clean sync:\n%s\n---\n%s", got, clean)
	}
	if n := e.srv.Calls("runs/log-batch"); n != batches {
		t.Errorf("%d log-batch requests, want %d (nothing resent: the lost answers' batches had arrived)", n, batches)
	}
}
