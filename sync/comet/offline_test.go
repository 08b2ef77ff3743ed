package comet_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// schema compiles one of the Comet SDK's offline message schemas (copied
// from the SDK into testdata/schemas).
func schema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "schemas", name+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var messageSchemas = map[string]string{
	"metric_msg":    "offline-metric-msg",
	"parameter_msg": "offline-parameter-msg",
	"file_upload":   "offline-file-upload-msg",
	"log_other":     "offline-log-other-msg",
}

// readZip returns the zip's entries.
func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func writeZip(t *testing.T, archive, dir string) ysync.Result {
	t.Helper()
	r := ysync.One(context.Background(), archive, comet.NewOffline(dir, comet.BuildOptions{}), ysync.BatchOptions{})
	if r.Status != ysync.StatusWritten {
		t.Fatalf("%s: %s", r.Status, r.Error)
	}
	return r
}

// TestOffline_ValidatesAgainstSDKSchemas writes each fixture's zip and
// validates experiment.json and every message with the SDK's schemas.
func TestOffline_ValidatesAgainstSDKSchemas(t *testing.T) {
	exp := schema(t, "offline-experiment")
	compiled := map[string]*jsonschema.Schema{}
	for typ, name := range messageSchemas {
		compiled[typ] = schema(t, name)
	}
	for _, run := range fixtureRuns {
		archive := synctest.Capture(t, run)
		dir := t.TempDir()
		res := writeZip(t, archive, dir)
		entries := readZip(t, res.Output)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(entries["experiment.json"]))
		if err != nil {
			t.Fatal(err)
		}
		if err := exp.Validate(inst); err != nil {
			t.Errorf("%s: experiment.json: %v", run, err)
		}
		var meta map[string]any
		json.Unmarshal(entries["experiment.json"], &meta)
		if meta["offline_id"] != res.RemoteID || len(res.RemoteID) != 40 || meta["resume_strategy"] != "create" {
			t.Errorf("%s: experiment.json %v", run, meta)
		}
		counts := map[string]int{}
		sc := bufio.NewScanner(bytes.NewReader(entries["messages.json"]))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var m struct {
				Type    string         `json:"type"`
				Payload map[string]any `json:"payload"`
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: line %q: %v", run, sc.Text(), err)
			}
			counts[m.Type]++
			s := compiled[m.Type]
			if s == nil {
				t.Errorf("%s: unexpected message type %s", run, m.Type)
				continue
			}
			pi, _ := jsonschema.UnmarshalJSON(bytes.NewReader(mustMarshal(m.Payload)))
			if err := s.Validate(pi); err != nil {
				t.Errorf("%s: %s %s: %v", run, m.Type, sc.Text(), err)
			}
			if _, ok := m.Payload["message_id"]; ok {
				t.Errorf("%s: message_id present", run)
			}
			if fp, ok := m.Payload["file_path"].(string); ok {
				if _, ok := entries[fp]; !ok {
					t.Errorf("%s: %s references %s, not in the zip", run, m.Type, fp)
				}
			}
		}
		l, _ := build(t, run)
		wantMetrics := 0
		for _, c := range l.Calls {
			wantMetrics += len(c.Metrics)
		}
		if counts["metric_msg"] != wantMetrics || counts["parameter_msg"] == 0 || counts["file_upload"] == 0 {
			t.Errorf("%s: message counts %v (want %d metrics)", run, counts, wantMetrics)
		}
		// Deterministic: the same archive gives the same bytes.
		first, _ := os.ReadFile(res.Output)
		writeZip(t, archive, dir)
		again, _ := os.ReadFile(res.Output)
		if !bytes.Equal(first, again) {
			t.Errorf("%s: a second write differs", run)
		}
	}
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestMessages_SpecialFloats(t *testing.T) {
	nan := 0.0
	nan = nan / nan
	l := &comet.Log{RunID: "r", Start: time.Unix(1, 0), End: time.Unix(2, 0), Calls: []comet.Call{
		{Kind: comet.KindMetrics, Step: comet.Int64(1), Epoch: comet.Int64(1), Metrics: []comet.Metric{{"a", nan}, {"b", 1 / zero()}}},
		{Kind: comet.KindParameters, Params: []comet.KV{{"imgsz", []any{int64(640), int64(480)}}, {"x", nil}}},
	}}
	msgs, _, err := comet.Messages(l)
	if err != nil {
		t.Fatal(err)
	}
	all := string(bytes.Join(msgs, []byte("\n")))
	for _, want := range []string{`"metricValue":"NaN"`, `"metricValue":"Infinity"`, `"params":{"paramName":"imgsz","paramValue":[640,480]`, `"paramValue":null`} {
		if !strings.Contains(all, want) {
			t.Errorf("messages lack %s:\n%s", want, all)
		}
	}
	ms := schema(t, "offline-metric-msg")
	ps := schema(t, "offline-parameter-msg")
	for _, m := range msgs {
		var env struct {
			Type    string
			Payload json.RawMessage
		}
		json.Unmarshal(m, &env)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(env.Payload))
		s := ms
		if env.Type == "parameter_msg" {
			s = ps
		}
		if env.Type != "log_other" {
			if err := s.Validate(inst); err != nil {
				t.Errorf("%s: %v", m, err)
			}
		}
	}
}

func zero() float64 { return 0 }

func TestOffline_CancelledLeavesNothing(t *testing.T) {
	archive := synctest.Capture(t, "segment-savejson")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := ysync.One(ctx, archive, comet.NewOffline(dir, comet.BuildOptions{}), ysync.BatchOptions{})
	if r.Status != ysync.StatusInterrupted {
		t.Errorf("status %s", r.Status)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left %d entries behind", len(entries))
	}
}
