package comet_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

const (
	metricBatch = "clientlib/batch/logger/experiment/metric"
	paramBatch  = "clientlib/batch/logger/experiment/parameter"
)

// TestREST_Batches: metric points go in batches of at most 1,000 (the
// fake refuses more, and any batch with one invalid value), parameters in
// one, nothing one request each; the experiment is the same as one synced
// one request per value by a server without the batch endpoints.
func TestREST_Batches(t *testing.T) {
	archive := synctest.Capture(t, synctest.SynthRun(t, 300, 0, 0))
	e := newEnv(t)
	r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("%s %s", r.Status, r.Error)
	}
	if got, want := e.srv.Calls(metricBatch), (r.Plan.Scalars+999)/1000; got != want {
		t.Errorf("%d metric batches for %d points, want %d", got, r.Plan.Scalars, want)
	}
	if n := e.srv.Calls(paramBatch); n != 1 {
		t.Errorf("%d parameter batches, want 1", n)
	}
	if m, p := e.srv.Calls("write/experiment/metric"), e.srv.Calls("write/experiment/parameter"); m+p != 0 {
		t.Errorf("%d metric and %d parameter requests of one value", m, p)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %v", r.Warnings)
	}
	single := newEnv(t)
	single.srv.WithoutBatch = 404
	if r := single.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatalf("per point: %s %s", r.Status, r.Error)
	}
	if a, b := experimentState(e.srv.Experiments()[0]), experimentState(single.srv.Experiments()[0]); a != b {
		t.Errorf("batches and single requests give different experiments:\n%s\n---\n%s", a, b)
	}
}

// TestREST_WithoutBatch: a server that refuses the batch endpoints (404
// or 405) gets every value one request each, and the sync says so once:
// one warning per endpoint for a whole bulk sync, whose other archives do
// not try the batch endpoints again.
func TestREST_WithoutBatch(t *testing.T) {
	paths := synctest.BulkArchives(t, 3, -1)
	ref := newEnv(t)
	for _, p := range paths {
		if r := ref.sync(t, context.Background(), p, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
			t.Fatal(r.Error)
		}
	}
	clean := map[string]string{}
	for _, x := range ref.srv.Experiments() {
		clean[x.Name] = experimentState(x)
	}
	for _, status := range []int{404, 405} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newEnv(t)
			e.srv.WithoutBatch = status
			results := ysync.Batch(context.Background(), paths, e.r, ysync.BatchOptions{Jobs: 2, Store: e.store})
			var warnings []string
			for _, r := range results {
				if r.Status != ysync.StatusSynced {
					t.Fatalf("%s: %s %s", r.Archive, r.Status, r.Error)
				}
				warnings = append(warnings, r.Warnings...)
			}
			if len(warnings) != 2 || !strings.Contains(strings.Join(warnings, "\n"), fmt.Sprintf("does not serve %s (HTTP %d): metric points go one request each", metricBatch, status)) ||
				!strings.Contains(strings.Join(warnings, "\n"), fmt.Sprintf("does not serve %s (HTTP %d): parameters go one request each", paramBatch, status)) {
				t.Errorf("warnings, want one per endpoint:\n%s", strings.Join(warnings, "\n"))
			}
			if m, p := e.srv.Calls(metricBatch), e.srv.Calls(paramBatch); m != 1 || p != 1 {
				t.Errorf("batch endpoints tried %d and %d times, want once each per sync", m, p)
			}
			for _, x := range e.srv.Experiments() {
				if got := experimentState(x); got != clean[x.Name] {
					t.Errorf("experiment %s differs from one synced in batches:\n%s\n---\n%s", x.Name, got, clean[x.Name])
				}
			}
		})
	}
}

// TestREST_BatchFaults: a batch throttled with Retry-After-Custom waits
// as told and is sent once; a batch stored whose answer was lost is read
// back, not sent again; a batch refused with a 500 is sent again. Each
// sync ends with the experiment of a clean sync: no point twice.
func TestREST_BatchFaults(t *testing.T) {
	archive := synctest.Capture(t, synctest.SynthRun(t, 300, 0, 0))
	ref := newEnv(t)
	if r := ref.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	clean := state(t, ref.srv)
	for _, tc := range []struct {
		name    string
		inject  func(*comettest.Server)
		batches int // metric batch requests the server sees
		wait    time.Duration
	}{
		{"429 with Retry-After-Custom", func(s *comettest.Server) { s.RateLimit(metricBatch, 1, 1200*time.Millisecond) }, 5, 1200 * time.Millisecond},
		{"429 on the parameters", func(s *comettest.Server) { s.RateLimit(paramBatch, 2, 300*time.Millisecond) }, 4, 600 * time.Millisecond},
		{"answer lost", func(s *comettest.Server) { s.DropAnswers(metricBatch, 2) }, 4, 0},
		{"500", func(s *comettest.Server) {
			s.Faults.Next(1, synctest.Fault{Kind: synctest.ServerError, Match: "batch/logger/experiment/metric"})
		}, 4, 0},
		{"reset", func(s *comettest.Server) {
			s.Faults.Next(2, synctest.Fault{Kind: synctest.Reset, Match: "batch/logger/experiment/metric"})
		}, 4, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.inject(e.srv)
			start := time.Now()
			r := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
			if r.Status != ysync.StatusSynced {
				t.Fatalf("%s %s", r.Status, r.Error)
			}
			if elapsed := time.Since(start); elapsed < tc.wait {
				t.Errorf("synced in %v, before the %v the server asked to wait", elapsed, tc.wait)
			}
			if got := state(t, e.srv); got != clean {
				t.Errorf("differs from a clean sync:\n%s\n---\n%s", got, clean)
			}
			if n := e.srv.Calls(metricBatch); n != tc.batches {
				t.Errorf("%d metric batches reached the server, want %d", n, tc.batches)
			}
		})
	}
}

// TestREST_Console: a captured session's console goes to
// write/experiment/output 500 lines a request, in order, each line once:
// also when an answer is lost (the experiment's console is read back and
// only the lines it lacks are sent) and when the sync is killed at any of
// those requests and run again.
func TestREST_Console(t *testing.T) {
	var lines []string
	for i := range 1201 {
		lines = append(lines, fmt.Sprintf(`{"type":"standard_output","payload":{"output":"line %d\n","stderr":%v,"local_timestamp":%d,"context":null}}`, i, i%7 == 0, 1764737714000+int64(i)))
	}
	lines = append(lines, `{"type":"metric_msg","payload":{"local_timestamp":1764737715000,"metric":{"metricName":"loss","metricValue":0.5,"step":1,"epoch":1}}}`)
	src := filepath.Join(t.TempDir(), "console.zip")
	writeRawZip(t, src, map[string][]byte{
		"experiment.json": []byte(`{"offline_id":"0123456789abcdef0123456789abcdef","project_name":"p","workspace":null,"start_time":1764737713000,"stop_time":1764737716000,"tags":[]}`),
		"messages.json":   []byte(strings.Join(lines, "\n") + "\n"),
	})
	archive := synctest.Capture(t, src)
	want := func(t *testing.T, srv *comettest.Server) {
		t.Helper()
		x := srv.Experiments()[0]
		if len(x.Output) != 1201 {
			t.Fatalf("%d console lines, want 1201", len(x.Output))
		}
		for i, l := range x.Output {
			if l.Output != fmt.Sprintf("line %d\n", i) || l.Stderr != (i%7 == 0) || l.Timestamp != 1764737714000+int64(i) || l.Offset != int64(i+1) {
				t.Fatalf("line %d: %+v", i, l)
			}
		}
	}
	e := newEnv(t)
	if r := e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	want(t, e.srv)
	if n := e.srv.Calls("write/experiment/output"); n != 3 {
		t.Errorf("%d output requests, want 3", n)
	}

	lost := newEnv(t)
	lost.srv.DropAnswers("write/experiment/output", 1)
	lost.srv.Faults.Next(1, synctest.Fault{Kind: synctest.Reset, Match: "write/experiment/output"})
	if r := lost.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	want(t, lost.srv)

	ref := newEnv(t)
	full := ref.sync(t, context.Background(), archive, ysync.BatchOptions{})
	for n := 1; n < int(full.Requests); n++ {
		k := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		k.srv.Faults.CancelAfter(n, cancel)
		k.sync(t, ctx, archive, ysync.BatchOptions{})
		cancel()
		k.srv.Faults.Clear()
		if r := k.sync(t, context.Background(), archive, ysync.BatchOptions{}); !r.OK() {
			t.Fatalf("killed at request %d, then: %s %s", n, r.Status, r.Error)
		}
		if len(k.srv.Experiments()) != 1 {
			t.Fatalf("killed at request %d: %d experiments", n, len(k.srv.Experiments()))
		}
		want(t, k.srv)
	}
}

// experimentState is state for one experiment of several.
func experimentState(x comettest.Experiment) string {
	var lines []string
	for _, m := range x.Metrics {
		lines = append(lines, fmt.Sprintf("metric %s %v/%v %s %d = %v", m.Name, deref(m.Step), deref(m.Epoch), m.Context, m.Timestamp, m.Value))
	}
	for k, p := range x.Params {
		lines = append(lines, fmt.Sprintf("param %s = %#v at %d", k, p.Value, p.Timestamp))
	}
	for k, v := range x.Others {
		lines = append(lines, fmt.Sprintf("other %s = %s", k, v))
	}
	for _, a := range x.Assets {
		lines = append(lines, fmt.Sprintf("asset %s %s %v %d", a.FileName, a.Type, deref(a.Step), a.Size))
	}
	lines = append(lines, fmt.Sprintf("project %s name %s alive %v", x.Project, x.Name, x.Alive))
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// cleanSync captures a 300-epoch run (3,907 points: four metric
// batches) and syncs it whole, returning the archive, the sync's result
// and the experiment it left (experimentState), which an interrupted and
// resumed sync must match.
func cleanSync(t *testing.T) (archive string, full ysync.Result, clean string) {
	t.Helper()
	archive = synctest.Capture(t, synctest.SynthRun(t, 300, 0, 0))
	ref := newEnv(t)
	full = ref.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if full.Status != ysync.StatusSynced {
		t.Fatal(full.Error)
	}
	return archive, full, experimentState(ref.srv.Experiments()[0])
}

// TestREST_KilledAtEveryRequest: a sync of a run of 3,907 points (four
// metric batches) killed at each of its requests in turn, then run again,
// gives the experiment of a clean sync: every point once, with its step,
// epoch, context and timestamp, every parameter at its time, one
// experiment. A batch whose answer the kill lost is read back, not sent
// twice.
func TestREST_KilledAtEveryRequest(t *testing.T) {
	archive, full, clean := cleanSync(t)
	for n := 1; n <= int(full.Requests); n++ {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		e.srv.Faults.CancelAfter(n, cancel)
		r := e.sync(t, ctx, archive, ysync.BatchOptions{})
		cancel()
		e.srv.Faults.Clear()
		if r.Status != ysync.StatusInterrupted && r.Status != ysync.StatusSynced {
			t.Fatalf("killed at request %d: %s %s", n, r.Status, r.Error)
		}
		if r = e.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced && r.Status != ysync.StatusUpToDate {
			t.Fatalf("killed at request %d, then: %s %s", n, r.Status, r.Error)
		}
		if xs := e.srv.Experiments(); len(xs) != 1 {
			t.Fatalf("killed at request %d: %d experiments", n, len(xs))
		}
		if got := experimentState(e.srv.Experiments()[0]); got != clean {
			t.Fatalf("killed at request %d: differs from a clean sync:\n%s\n---\n%s", n, got, clean)
		}
		if m := e.srv.Calls(metricBatch); m > 4+1 {
			t.Errorf("killed at request %d: %d metric batch requests, want at most 5 (4 batches, one of them resent if the kill cut it short)", n, m)
		}
	}
}
