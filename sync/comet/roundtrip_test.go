package comet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// decodeExact decodes JSON keeping each number as written (3.0 is not 3).
func decodeExact(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return v
}

// exactMessages reads a zip's messages as the uploader sees them, numbers
// as written: message_id and offset dropped (the uploader ignores or
// injects them), a file_upload's file_path replaced by the sha256 of the
// file it names, and parameters reduced to the last message of each name
// (the uploader sends one value per name, the last). Lines are sorted.
func exactMessages(t *testing.T, files map[string][]byte) []string {
	t.Helper()
	var out []string
	lastParam := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(files["messages.json"])), "\n") {
		m := decodeExact(t, []byte(line)).(map[string]any)
		p := m["payload"].(map[string]any)
		delete(p, "message_id")
		delete(p, "offset")
		switch m["type"] {
		case "file_upload":
			data, ok := files[p["file_path"].(string)]
			if !ok {
				t.Fatalf("%s names a file the zip lacks", line)
			}
			sum := sha256.Sum256(data)
			p["file_path"] = hex.EncodeToString(sum[:])
		case "parameter_msg":
			prm, _ := p["param"].(map[string]any)
			if prm == nil {
				prm = p["params"].(map[string]any)
			}
			name := prm["paramName"].(string)
			if i, ok := lastParam[name]; ok {
				out[i] = ""
			}
			lastParam[name] = len(out)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	kept := out[:0]
	for _, l := range out {
		if l != "" {
			kept = append(kept, l)
		}
	}
	sort.Strings(kept)
	return kept
}

// dirFiles reads a folder's files.
func dirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if out[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestSession_YOLOv5ZipRoundTrip captures the hand-made Comet zip of a
// YOLOv5 run written on Windows by comet_ml 3.47 and writes it again with
// --to comet-offline: message for message the same as the input, numbers
// as written (every metric point with its step, its epoch including 0 and
// null, context and timestamp; every parameter with its JSON type, list
// items too; images with their Windows names; assets with their names and
// metadata; others and the flags; system messages; console output), and
// the same experiment.json. Only yoloarchive's markers are added (the
// others yoloarchive_run_id, yoloarchive_final, yoloarchive_gaps).
func TestSession_YOLOv5ZipRoundTrip(t *testing.T) {
	in := dirFiles(t, filepath.Join(synctest.CometSessions(), "yolov5-windows"))
	res := writeZip(t, synctest.Capture(t, synctest.CometZip(t, "yolov5-windows")), t.TempDir())
	out := readZip(t, res.Output)

	validateMessages(t, "the fixture", in)
	validateMessages(t, "the replay", out)
	want := exactMessages(t, in)
	var got []string
	markers := map[string]bool{}
	for _, l := range exactMessages(t, out) {
		var m struct {
			Payload struct{ Key string } `json:"payload"`
			Type    string               `json:"type"`
		}
		json.Unmarshal([]byte(l), &m)
		if m.Type == "log_other" && strings.HasPrefix(m.Payload.Key, "yoloarchive_") {
			markers[m.Payload.Key] = true
			continue
		}
		got = append(got, l)
	}
	if !markers["yoloarchive_run_id"] || !markers["yoloarchive_final"] {
		t.Errorf("markers %v", markers)
	}
	diff(t, got, want)

	e1 := decodeExact(t, in["experiment.json"]).(map[string]any)
	e2 := decodeExact(t, out["experiment.json"]).(map[string]any)
	for _, k := range []string{"offline_id", "project_name", "workspace", "start_time", "stop_time", "tags", "resume_strategy"} {
		if b1, b2 := mustMarshal(e1[k]), mustMarshal(e2[k]); string(b1) != string(b2) {
			t.Errorf("experiment.json %s = %s, want %s", k, b2, b1)
		}
	}
}

// validateMessages validates experiment.json and every message of a zip
// with the SDK's schema for its type.
func validateMessages(t *testing.T, what string, files map[string][]byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(files["experiment.json"]))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema(t, "offline-experiment").Validate(inst); err != nil {
		t.Errorf("%s: experiment.json: %v", what, err)
	}
	compiled := map[string]*jsonschema.Schema{}
	for _, line := range strings.Split(strings.TrimSpace(string(files["messages.json"])), "\n") {
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		s := compiled[m.Type]
		if s == nil {
			s = schema(t, "offline-"+strings.ReplaceAll(strings.TrimSuffix(m.Type, "_msg"), "_", "-")+"-msg")
			compiled[m.Type] = s
		}
		pi, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.Payload))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(pi); err != nil {
			t.Errorf("%s: %s: %v", what, line, err)
		}
	}
}

// diff reports the lines of got and want (sorted) that differ.
func diff(t *testing.T, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, l := range got {
		count[l]--
	}
	var missing, extra []string
	for l, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, l)
		}
		for ; n < 0; n++ {
			extra = append(extra, l)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for i, l := range missing {
		if i == 8 {
			t.Errorf("... and %d more missing", len(missing)-i)
			break
		}
		t.Errorf("missing: %s", l)
	}
	for i, l := range extra {
		if i == 8 {
			t.Errorf("... and %d more extra", len(extra)-i)
			break
		}
		t.Errorf("extra:   %s", l)
	}
	if len(got) != len(want) {
		t.Errorf("%d messages, want %d", len(got), len(want))
	}
}

// TestSession_YOLOv5ZipToREST syncs the captured YOLOv5 zip over REST:
// every metric point arrives with its step, epoch (0 and null apart),
// context and timestamp; parameters and others with their values and
// types as the server keeps them (a list as its JSON text: [0], not
// [0.0]); the images under their Windows names.
func TestSession_YOLOv5ZipToREST(t *testing.T) {
	in := dirFiles(t, filepath.Join(synctest.CometSessions(), "yolov5-windows"))
	e := newEnv(t)
	res := e.sync(t, context.Background(), synctest.Capture(t, synctest.CometZip(t, "yolov5-windows")), ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced {
		t.Fatal(res.Error)
	}
	x := e.srv.Experiments()[0]
	var want, got []string
	params := map[string]any{}
	others := map[string]string{}
	var images []string
	for _, line := range strings.Split(strings.TrimSpace(string(in["messages.json"])), "\n") {
		var m struct {
			Type    string `json:"type"`
			Payload struct {
				Time    int64   `json:"local_timestamp"`
				Context *string `json:"context"`
				Metric  *struct {
					Name  string  `json:"metricName"`
					Value float64 `json:"metricValue"`
					Step  *int64  `json:"step"`
					Epoch *int64  `json:"epoch"`
				} `json:"metric"`
				Param *struct {
					ParamName  string
					ParamValue json.RawMessage
				} `json:"param"`
				Params *struct {
					ParamName  string
					ParamValue json.RawMessage
				} `json:"params"`
				Key    string         `json:"key"`
				Value  any            `json:"value"`
				Add    map[string]any `json:"additional_params"`
				Upload string         `json:"upload_type"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		p := m.Payload
		switch m.Type {
		case "metric_msg":
			ctx := ""
			if p.Context != nil {
				ctx = *p.Context
			}
			want = append(want, fmt.Sprintf("%s=%v step %v epoch %v context %q at %d", p.Metric.Name, p.Metric.Value, deref(p.Metric.Step), deref(p.Metric.Epoch), ctx, p.Time))
		case "parameter_msg":
			if p.Param != nil {
				var v any
				json.Unmarshal(p.Param.ParamValue, &v)
				params[p.Param.ParamName] = v
			} else {
				params[p.Params.ParamName] = string(p.Params.ParamValue)
			}
		case "log_other":
			others[p.Key] = fmt.Sprint(p.Value)
		case "file_upload":
			if p.Upload == "visualization" {
				images = append(images, p.Add["figName"].(string)+".png")
			}
		}
	}
	for _, m := range x.Metrics {
		got = append(got, fmt.Sprintf("%s=%v step %v epoch %v context %q at %d", m.Name, m.Value, deref(m.Step), deref(m.Epoch), m.Context, m.Timestamp))
	}
	sort.Strings(want)
	sort.Strings(got)
	diff(t, got, want)
	for k, v := range params {
		if p, ok := x.Params[k]; !ok || fmt.Sprintf("%T %v", p.Value, p.Value) != fmt.Sprintf("%T %v", v, v) {
			t.Errorf("parameter %s = %T %v, want %T %v", k, p.Value, p.Value, v, v)
		}
	}
	for k, v := range others {
		if x.Others[k] != v {
			t.Errorf("other %s = %q, want %q", k, x.Others[k], v)
		}
	}
	have := map[string]bool{}
	for _, a := range x.Assets {
		have[a.Type+" "+a.FileName] = true
	}
	for _, n := range images {
		if !have["image "+n] {
			t.Errorf("image %s missing (have %v)", n, have)
		}
	}
}

// TestSession_ParamTypesRoundTrip: parameters of every JSON type come
// back from a capture and --to comet-offline as they were written, list
// items each with its own type (a string "2" in a mixed list stays a
// string, [0.0] stays [0.0]).
func TestSession_ParamTypesRoundTrip(t *testing.T) {
	values := []string{`3`, `3.0`, `1e-05`, `0.0005`, `12884901888`, `-1`, `true`, `null`, `"3"`, `"C:\\runs\\exp"`,
		`[0]`, `[0.0,1.5]`, `["0","1"]`, `[1,"2",2.5,true,null,"x",1e-05]`, `[]`}
	lines := []string{`{"payload":{"key":"Name","value":"types"},"type":"log_other"}`}
	for i, v := range values {
		form := "param"
		if strings.HasPrefix(v, "[") {
			form = "params"
		}
		lines = append(lines, fmt.Sprintf(`{"payload":{"local_timestamp":%d,%q:{"paramName":"p%02d","paramValue":%s,"source":"manual","step":null}},"type":"parameter_msg"}`,
			1764737713100+i, form, i, v))
	}
	files := map[string][]byte{
		"experiment.json": []byte(`{"offline_id":"0123456789abcdef0123456789abcdef","project_name":"p","start_time":1764737713000,"stop_time":1764737715000,"tags":[]}`),
		"messages.json":   []byte(strings.Join(lines, "\n") + "\n"),
	}
	src := filepath.Join(t.TempDir(), "types.zip")
	writeRawZip(t, src, files)
	out := readZip(t, writeZip(t, synctest.Capture(t, src), t.TempDir()).Output)
	var got []string
	for _, l := range exactMessages(t, out) {
		if !strings.Contains(l, `"key":"yoloarchive_`) {
			got = append(got, l)
		}
	}
	diff(t, got, exactMessages(t, files))
}

// TestSession_Format12Replay replays the YOLOv5 session archive written
// by format 1.2 (before session_epoch and item_types): it still writes a
// valid zip, list items keep their types (from the list's JSON text), and
// a point's epoch is the one logged except 0, which 1.2 stored as it
// stored none.
func TestSession_Format12Replay(t *testing.T) {
	out := readZip(t, writeZip(t, "../../testdata/archives/v1.2-comet-yolov5.tar.zst", t.TempDir()).Output)
	validateMessages(t, "the replay", out)
	msgs := string(out["messages.json"])
	for _, want := range []string{`"paramName":"freeze","paramValue":[0],`, `"paramName":"warmup_epochs","paramValue":3.0,`,
		`"metric":{"epoch":1,"metricName":"train/box_loss","metricValue":0.04213,"step":15}`,
		`"metric":{"epoch":null,"metricName":"train/box_loss","metricValue":0.04471,"step":7}`} {
		if !strings.Contains(msgs, want) {
			t.Errorf("messages.json lacks %s", want)
		}
	}
}
