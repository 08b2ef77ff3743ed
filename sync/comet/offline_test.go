package comet_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	r := ysync.One(context.Background(), archive, comet.NewOffline(dir, comet.Options{}), ysync.BatchOptions{})
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
	r := ysync.One(ctx, archive, comet.NewOffline(dir, comet.Options{}), ysync.BatchOptions{})
	if r.Status != ysync.StatusInterrupted {
		t.Errorf("status %s", r.Status)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left %d entries behind", len(entries))
	}
}

// message is one line of messages.json.
type message struct {
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload"`
}

func readMessages(t *testing.T, data []byte) []message {
	t.Helper()
	var out []message
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func stepJSON(p *int64) any {
	if p == nil {
		return nil
	}
	return float64(*p)
}

// checkZipMatchesLog compares a written zip with the Log Build makes for
// the same run: experiment.json, the others, every parameter and metric
// point (exact values, step, epoch, in order) and every upload (type,
// name, step, annotations, and the bytes against the archive's digest);
// the zip holds no file that no message references.
func checkZipMatchesLog(t *testing.T, what, zipPath string, r *ysync.Run, l *comet.Log) {
	t.Helper()
	entries := readZip(t, zipPath)
	var meta map[string]any
	json.Unmarshal(entries["experiment.json"], &meta)
	wantMeta := map[string]any{"offline_id": comet.OfflineID(r.RunID()), "project_name": l.Project, "workspace": nil,
		"start_time": float64(l.Start.UnixMilli()), "stop_time": float64(l.End.UnixMilli()), "resume_strategy": "create"}
	for k, w := range wantMeta {
		if meta[k] != w {
			t.Errorf("%s: experiment.json %s = %v, want %v", what, k, meta[k], w)
		}
	}
	var wantMetrics, gotMetrics, wantParams, gotParams []string
	var wantFiles []comet.Call
	for _, c := range l.Calls {
		for _, m := range c.Metrics {
			wantMetrics = append(wantMetrics, fmt.Sprintf("%s=%v@%v/%v", m.Name, m.Value, stepJSON(c.Step), stepJSON(c.Epoch)))
		}
		for _, p := range c.Params {
			b, _ := json.Marshal(p.Value)
			wantParams = append(wantParams, p.Key+"="+string(b))
		}
		if c.File != nil {
			wantFiles = append(wantFiles, c)
		}
	}
	gotOthers := map[string]any{}
	referenced := map[string]bool{"experiment.json": true, "messages.json": true}
	fi := 0
	for _, m := range readMessages(t, entries["messages.json"]) {
		switch m.Type {
		case "metric_msg":
			mm := m.Payload["metric"].(map[string]any)
			gotMetrics = append(gotMetrics, fmt.Sprintf("%s=%v@%v/%v", mm["metricName"], mm["metricValue"], mm["step"], mm["epoch"]))
		case "parameter_msg":
			p, ok := m.Payload["param"].(map[string]any)
			if !ok {
				p = m.Payload["params"].(map[string]any)
			}
			b, _ := json.Marshal(p["paramValue"])
			gotParams = append(gotParams, p["paramName"].(string)+"="+string(b))
		case "log_other":
			gotOthers[m.Payload["key"].(string)] = m.Payload["value"]
		case "file_upload":
			fp := m.Payload["file_path"].(string)
			referenced[fp] = true
			if fi >= len(wantFiles) {
				t.Errorf("%s: extra upload %s", what, fp)
				continue
			}
			c := wantFiles[fi]
			fi++
			ap := m.Payload["additional_params"].(map[string]any)
			wantType := map[string]string{comet.KindImage: "visualization", comet.KindModel: "model-element",
				comet.KindTable: "asset", comet.KindAsset: "asset"}[c.Kind]
			if m.Payload["upload_type"] != wantType || ap["step"] != stepJSON(c.Step) {
				t.Errorf("%s: upload %s: type %v step %v, want %s %v", what, fp, m.Payload["upload_type"], ap["step"], wantType, stepJSON(c.Step))
			}
			switch c.Kind {
			case comet.KindImage:
				if ap["figName"] != c.Name {
					t.Errorf("%s: image figName %v, want %s", what, ap["figName"], c.Name)
				}
				md, _ := m.Payload["metadata"].(map[string]any)
				if len(c.Annotations) > 0 && (md == nil || !jsonEqual(md["annotations"], dropEmptyPoints(annotationsJSON(c.Annotations)))) {
					t.Errorf("%s: image %s annotations differ", what, c.Name)
				}
				if len(c.Annotations) == 0 && md != nil {
					t.Errorf("%s: image %s has metadata %v", what, c.Name, md)
				}
			case comet.KindModel:
				if ap["groupingName"] != c.Name || ap["fileName"] != "best.pt" || ap["overwrite"] != true || ap["type"] != "model-element" {
					t.Errorf("%s: model upload %v", what, ap)
				}
			default:
				if ap["fileName"] != c.File.Name {
					t.Errorf("%s: asset fileName %v, want %s", what, ap["fileName"], c.File.Name)
				}
			}
			data, ok := entries[fp]
			sum := sha256.Sum256(data)
			if !ok || hex.EncodeToString(sum[:]) != c.File.Digest || int64(len(data)) != c.File.Size {
				t.Errorf("%s: %s (%s) is not the archive's file %s", what, fp, c.File.Name, c.File.Digest)
			}
		default:
			t.Errorf("%s: unexpected message type %s", what, m.Type)
		}
	}
	if fi != len(wantFiles) {
		t.Errorf("%s: %d uploads, want %d", what, fi, len(wantFiles))
	}
	for name := range entries {
		if !referenced[name] {
			t.Errorf("%s: zip entry %s is referenced by no message", what, name)
		}
	}
	if strings.Join(gotMetrics, "\n") != strings.Join(wantMetrics, "\n") {
		t.Errorf("%s: metric messages differ from Build's:\n got %s\nwant %s", what, strings.Join(gotMetrics, " "), strings.Join(wantMetrics, " "))
	}
	if strings.Join(gotParams, "\n") != strings.Join(wantParams, "\n") {
		t.Errorf("%s: parameter messages differ from Build's:\n got %s\nwant %s", what, strings.Join(gotParams, " "), strings.Join(wantParams, " "))
	}
	if gotOthers[comet.RunIDOther] != r.RunID() || gotOthers["Name"] != l.Name || gotOthers["Created from"] != "ultralytics" || gotOthers["max_image_predictions"] != float64(100) {
		t.Errorf("%s: others %v", what, gotOthers)
	}
}

// TestOffline_MatchesBuild: each fixture's zip (and one with weights)
// carries exactly Build's calls, and is named <run name>-<run id prefix>.zip.
func TestOffline_MatchesBuild(t *testing.T) {
	runs := map[string]string{}
	for _, run := range fixtureRuns {
		runs[run] = synctest.Capture(t, run)
	}
	runs["detect-savejson+weights"] = synctest.Capture(t, synctest.WithWeights(t, "detect-savejson"))
	for what, archive := range runs {
		dir := t.TempDir()
		res := writeZip(t, archive, dir)
		r, err := ysync.Open(context.Background(), archive)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		l, err := comet.Build(context.Background(), r, comet.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, comet.ZipName(r.Info.Name, r.RunID())); res.Output != want || filepath.Base(want) != r.Info.Name+"-"+r.RunID()[:8]+".zip" {
			t.Errorf("%s: output %s, want %s", what, res.Output, want)
		}
		if res.Plan == nil || res.Plan.Scalars == 0 || res.Plan.Images == 0 {
			t.Errorf("%s: plan %+v", what, res.Plan)
		}
		checkZipMatchesLog(t, what, res.Output, r, l)
	}
}

// TestOffline_SyncCancelledLeavesNothing: a Sync cancelled after it made
// its temporary file removes it and reports the cancellation.
func TestOffline_SyncCancelledLeavesNothing(t *testing.T) {
	r, err := ysync.Open(context.Background(), synctest.Capture(t, synctest.WithWeights(t, "detect")))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var res ysync.Result
	err = comet.NewOffline(dir, comet.Options{}).Write(ctx, r, nil, nil, &res)
	if !errors.Is(err, context.Canceled) || res.Status != "" || res.Output != "" {
		t.Errorf("err %v, result %+v", err, res)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v behind", entries)
	}
}

// TestOffline_WriteZipStopsOnCancel: a copy in progress stops at the
// next read once the context is cancelled.
func TestOffline_WriteZipStopsOnCancel(t *testing.T) {
	r, err := ysync.Open(context.Background(), synctest.Capture(t, synctest.WithWeights(t, "detect")))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l, _ := comet.Build(context.Background(), r, comet.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelAfter{n: 1 << 10, cancel: cancel}
	if err := comet.WriteZip(ctx, w, r, l); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if w.written > 1<<20 {
		t.Errorf("wrote %d bytes after the cancel", w.written)
	}
}

// cancelAfter cancels once n bytes went through.
type cancelAfter struct {
	n, written int
	cancel     func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.written += len(p)
	if c.written >= c.n {
		c.cancel()
	}
	return len(p), nil
}

// TestOffline_OddArchives: archives with an empty results.csv or NaN and
// infinite values write valid zips (NaN and infinities as the SDK's
// strings).
func TestOffline_OddArchives(t *testing.T) {
	ms := schema(t, "offline-metric-msg")
	header := "epoch,time,train/box_loss,metrics/mAP50(B),lr/pg0\n"
	for name, csv := range map[string]string{
		"no-results": "",
		"nan":        header + "1,0.5,nan,inf,0.01\n2,1.0,1.5,-inf,0.02\n",
	} {
		dir := filepath.Join(t.TempDir(), "detect")
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(synctest.Fixtures(), "detect"))); err != nil {
			t.Fatal(err)
		}
		if csv == "" {
			if err := os.Remove(filepath.Join(dir, "results.csv")); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(filepath.Join(dir, "results.csv"), []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		res := writeZip(t, synctest.Capture(t, dir), t.TempDir())
		entries := readZip(t, res.Output)
		var values []string
		for _, m := range readMessages(t, entries["messages.json"]) {
			if m.Type != "metric_msg" {
				continue
			}
			inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(mustMarshal(m.Payload)))
			if err := ms.Validate(inst); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			mm := m.Payload["metric"].(map[string]any)
			values = append(values, fmt.Sprint(mm["metricName"], "=", mm["metricValue"]))
		}
		all := strings.Join(values, " ")
		if name == "nan" && !(strings.Contains(all, "train/box_loss=NaN") && strings.Contains(all, "metrics/mAP50(B)=Infinity") && strings.Contains(all, "metrics/mAP50(B)=-Infinity")) {
			t.Errorf("%s: metric values %s", name, all)
		}
		if name == "no-results" && len(values) != 0 {
			t.Errorf("%s: metrics %s", name, all)
		}
	}
}

// dropEmptyPoints removes "points": [] from annotation JSON: the writer
// leaves out the key when a mask had no polygon (docs/sync-comet.md).
func dropEmptyPoints(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = dropEmptyPoints(x[i])
		}
	case map[string]any:
		if p, ok := x["points"].([]any); ok && len(p) == 0 {
			delete(x, "points")
		}
		for k := range x {
			x[k] = dropEmptyPoints(x[k])
		}
	}
	return v
}

// TestOffline_FailedWriteLeavesNothing: when the zip cannot be put in
// place (a directory holds its name), the temporary file is removed and
// the error names the zip.
func TestOffline_FailedWriteLeavesNothing(t *testing.T) {
	archive := synctest.Capture(t, "detect")
	r, err := ysync.Open(context.Background(), archive)
	if err != nil {
		t.Fatal(err)
	}
	name := comet.ZipName(r.Info.Name, r.RunID())
	r.Close()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, name, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := ysync.One(context.Background(), archive, comet.NewOffline(dir, comet.Options{}), ysync.BatchOptions{})
	if res.Status != ysync.StatusFailed || !strings.Contains(res.Error, name) || strings.Contains(res.Error, "\n") {
		t.Errorf("status %s, error %q", res.Status, res.Error)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != name {
		t.Errorf("left %v behind", entries)
	}
}
