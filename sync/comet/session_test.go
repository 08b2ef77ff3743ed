package comet_test

import (
	"archive/zip"
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

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// legacy are hand-made messages of the forms the SDKs write besides ours:
// SDK 3.32's ws_msg (others with "val", metrics, params, stdout, system
// details) and current system messages, each with the current form the
// uploader turns it into (what a rewrite must produce).
var legacy = []struct{ in, want string }{
	{`{"type":"ws_msg","payload":{"local_timestamp":1764737714600,"log_other":{"key":"host","val":"node17"}}}`,
		`{"payload":{"key":"host","value":"node17"},"type":"log_other"}`},
	{`{"type":"ws_msg","payload":{"local_timestamp":1764737714601,"context":"train","metric":{"metricName":"gpu/mem","metricValue":3.5,"step":7,"epoch":1}}}`,
		`{"payload":{"context":"train","local_timestamp":1764737714601,"metric":{"epoch":1,"metricName":"gpu/mem","metricValue":3.5,"step":7}},"type":"metric_msg"}`},
	{`{"type":"ws_msg","payload":{"local_timestamp":1764737714602,"stdout":"Epoch 1/3\n","stderr":false}}`,
		`{"payload":{"context":null,"local_timestamp":1764737714602,"output":"Epoch 1/3\n","stderr":false},"type":"standard_output"}`},
	{`{"type":"ws_msg","payload":{"local_timestamp":1764737714603,"env_details":{"pid":42,"hostname":"node17","os":"Linux","os_type":"Linux","python_version_verbose":"3.11.2","python_version":"3.11.2","user":"me","ip":"10.0.0.7","command":["train.py"],"python_exe":"/usr/bin/python3","env":null,"machine":"x86_64","os_release":"6.1","processor":""}}}`,
		`{"payload":{"command":["train.py"],"env":null,"hostname":"node17","ip":"10.0.0.7","machine":"x86_64","os":"Linux","os_release":"6.1","os_type":"Linux","pid":42,"processor":"","python_exe":"/usr/bin/python3","python_version":"3.11.2","python_version_verbose":"3.11.2","user":"me"},"type":"system_details"}`},
	{`{"type":"standard_output","payload":{"output":"warning: slow disk\n","stderr":true,"local_timestamp":1764737714604,"context":null,"message_id":9}}`,
		`{"payload":{"context":null,"local_timestamp":1764737714604,"output":"warning: slow disk\n","stderr":true},"type":"standard_output"}`},
	{`{"type":"installed_packages","payload":{"installed_packages":["torch==2.3.1","ultralytics==8.3.166"]}}`,
		`{"payload":{"installed_packages":["torch==2.3.1","ultralytics==8.3.166"]},"type":"installed_packages"}`},
	{`{"type":"file_upload","payload":{"additional_params":{"assetId":"5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b","context":null,"fileName":"confusion-matrix.json","overwrite":false,"step":6,"epoch":3,"type":"confusion-matrix","extension":"json"},"clean":true,"file_path":"cm.json","local_timestamp":1764737714605,"metadata":null,"upload_type":"confusion-matrix"}}`,
		`{"payload":{"additional_params":{"context":null,"epoch":3,"extension":"json","fileName":"confusion-matrix.json","overwrite":false,"step":6,"type":"confusion-matrix"},"clean":true,"file_path":"cm.json","local_timestamp":1764737714605,"metadata":null,"upload_type":"confusion-matrix"},"type":"file_upload"}`},
}

// zipMessages reads a zip's messages as normalized lines: file_upload
// loses its zip-internal name and generated ids and gains the sha256 of
// the file it names.
func zipMessages(t *testing.T, files map[string][]byte) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(files["messages.json"])), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		p := m["payload"].(map[string]any)
		delete(p, "message_id")
		if m["type"] == "file_upload" {
			sum := sha256.Sum256(files[p["file_path"].(string)])
			p["file_path"] = hex.EncodeToString(sum[:])
			ap := p["additional_params"].(map[string]any)
			delete(ap, "imageId")
			delete(ap, "assetId")
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// TestSession_CometRoundTrip writes a realistic Comet offline zip (our
// own writer's, for a run with predictions and masks, plus hand-made
// legacy and system messages), captures it, writes it again with
// --to comet-offline and compares: the same messages (legacy ones in the
// current form the uploader turns them into), the same files, the same
// experiment, apart from generated ids.
func TestSession_CometRoundTrip(t *testing.T) {
	src, files := legacyZip(t)
	var want []string
	for _, l := range legacy {
		want = append(want, l.want)
	}

	second := writeZip(t, synctest.Capture(t, src), t.TempDir())
	again := readZip(t, second.Output)

	full := map[string][]byte{}
	for k, v := range files {
		full[k] = v
	}
	full["messages.json"] = []byte(strings.Join(append(originalLines(files), want...), "\n"))
	expect := zipMessages(t, full)
	got := zipMessages(t, again)
	if len(expect) < 100 {
		t.Fatalf("only %d messages", len(expect))
	}
	if len(got) != len(expect) {
		t.Errorf("%d messages, want %d", len(got), len(expect))
	}
	for i := 0; i < len(got) && i < len(expect); i++ {
		if got[i] != expect[i] {
			t.Errorf("message differs:\n got %s\nwant %s", got[i], expect[i])
			break
		}
	}
	var e1, e2 map[string]any
	json.Unmarshal(files["experiment.json"], &e1)
	json.Unmarshal(again["experiment.json"], &e2)
	for _, k := range []string{"offline_id", "project_name", "start_time", "stop_time", "tags", "resume_strategy"} {
		if b1, b2 := mustMarshal(e1[k]), mustMarshal(e2[k]); string(b1) != string(b2) {
			t.Errorf("experiment.json %s = %s, want %s", k, b2, b1)
		}
	}
}

// legacyZip writes the segment fixture's zip with the legacy messages
// appended; it returns the zip and its files.
func legacyZip(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	first := writeZip(t, synctest.Capture(t, "segment-savejson"), t.TempDir())
	files := readZip(t, first.Output)
	var extra []string
	for _, l := range legacy {
		extra = append(extra, l.in)
	}
	files["messages.json"] = append(files["messages.json"], []byte(strings.Join(extra, "\n")+"\n")...)
	files["cm.json"] = []byte(`{"version":1,"title":"Confusion Matrix","labels":["a","b"],"matrix":[[3,1],[0,4]],"rowLabel":"Actual Category","columnLabel":"Predicted Category","maxSamplesPerCell":25,"sampleMatrix":null,"type":"integer"}`)
	src := filepath.Join(t.TempDir(), "legacy.zip")
	writeRawZip(t, src, files)
	return src, files
}

// TestSession_CometZipToREST syncs the captured zip over REST: the same
// experiment as the zip describes (every metric point, parameter, other,
// image and its annotations, the console lines with their streams and
// times), and the messages REST does not carry named in the report.
func TestSession_CometZipToREST(t *testing.T) {
	src, _ := legacyZip(t)
	e := newEnv(t)
	res := e.sync(t, context.Background(), synctest.Capture(t, src), ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced {
		t.Fatal(res.Error)
	}
	x := e.srv.Experiments()[0]
	found := false
	for _, m := range x.Metrics {
		found = found || (m.Name == "gpu/mem" && deref(m.Step) == any(int64(7)))
	}
	if !found || x.Others["host"] != "node17" || x.Name != "segment-savejson" || len(x.Params) < 100 {
		t.Errorf("legacy metric %v, other host %q, name %q, %d params", found, x.Others["host"], x.Name, len(x.Params))
	}
	annotated := 0
	for _, a := range x.Assets {
		if strings.Contains(a.Metadata, "prediction") {
			annotated++
		}
	}
	report := strings.Join(res.GapLines(), "\n")
	for _, want := range []string{"session_system_details: 1", "session_installed_packages: 1"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "standard_output") {
		t.Errorf("report says the console is not sent:\n%s", report)
	}
	var console []string
	for _, l := range x.Output {
		console = append(console, fmt.Sprintf("%q stderr %v at %d", l.Output, l.Stderr, l.Timestamp))
	}
	if got, want := strings.Join(console, ", "), `"Epoch 1/3\n" stderr false at 1764737714602, "warning: slow disk\n" stderr true at 1764737714604`; got != want {
		t.Errorf("console %s, want %s", got, want)
	}
	if annotated == 0 {
		t.Error("no image arrived with its annotations")
	}
}

// originalLines are the zip's messages minus the appended legacy ones.
func originalLines(files map[string][]byte) []string {
	lines := strings.Split(strings.TrimSpace(string(files["messages.json"])), "\n")
	return lines[:len(lines)-len(legacy)]
}

func writeRawZip(t *testing.T, p string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestOffline_FloatsAsPython checks that float parameters and metrics are
// written as Python's json module writes them (3.0, not 3): a float
// setting must stay a float in Comet, as the live callback logs it.
func TestOffline_FloatsAsPython(t *testing.T) {
	files := readZip(t, writeZip(t, synctest.Capture(t, "detect"), t.TempDir()).Output)
	msgs := string(files["messages.json"])
	for _, want := range []string{`"paramName":"warmup_epochs","paramValue":3.0`, `"paramName":"epochs","paramValue":3,`, `"metricName":"metrics/mAP50(B)","metricValue":0.0`} {
		if !strings.Contains(msgs, want) {
			t.Errorf("messages.json lacks %s", want)
		}
	}
}

// TestSession_ReplayKeepsGaps: the same for a Comet zip.
func TestSession_ReplayKeepsGaps(t *testing.T) {
	first := synctest.Capture(t, "detect")
	zipped := writeZip(t, first, t.TempDir())
	a, err := ysync.Open(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := ysync.Open(context.Background(), synctest.Capture(t, zipped.Output))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	have := map[string]bool{}
	for _, g := range b.Gaps {
		have[g.Item] = true
	}
	for _, g := range a.Gaps {
		if !have[g.Item] {
			t.Errorf("gap %s lost", g.Item)
		}
	}
	if a.RunID() != b.RunID() || len(b.Summary) == 0 {
		t.Errorf("run id %s (first %s), %d single values", b.RunID(), a.RunID(), len(b.Summary))
	}
	for _, s := range b.Summary {
		if s.Exact {
			t.Errorf("summary %s claims to be exact", s.Key)
		}
	}
}

// TestSession_RESTDetails: what a captured session logged reaches Comet
// over REST as logged: each upload with its user metadata, each parameter
// at the time it was logged (not the experiment's start), a float other
// as a float (3.0, not 3).
func TestSession_RESTDetails(t *testing.T) {
	in := dirFiles(t, filepath.Join(synctest.CometSessions(), "yolov5-windows"))
	e := newEnv(t)
	if r := e.sync(t, context.Background(), synctest.Capture(t, synctest.CometZip(t, "yolov5-windows")), ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	x := e.srv.Experiments()[0]
	metadata := map[string]string{}
	for _, a := range x.Assets {
		metadata[a.FileName] = a.Metadata
	}
	checked := 0
	last := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(in["messages.json"])), "\n") {
		var m struct {
			Type    string `json:"type"`
			Payload struct {
				Time     int64           `json:"local_timestamp"`
				Metadata json.RawMessage `json:"metadata"`
				Add      struct {
					FileName string `json:"fileName"`
				} `json:"additional_params"`
				Param *struct {
					ParamName string
				} `json:"param"`
				Params *struct {
					ParamName string
				} `json:"params"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		p := m.Payload
		switch {
		case m.Type == "file_upload" && p.Add.FileName != "" && string(p.Metadata) != "null":
			checked++
			if got, ok := metadata[p.Add.FileName]; !ok || got == "" || !jsonEqual(decodeExact(t, []byte(got)), decodeExact(t, p.Metadata)) {
				t.Errorf("asset %s: metadata %q, want %s", p.Add.FileName, got, p.Metadata)
			}
		case m.Type == "parameter_msg":
			name := ""
			if p.Param != nil {
				name = p.Param.ParamName
			} else {
				name = p.Params.ParamName
			}
			last[name] = p.Time // the last value logged is the one kept
		}
	}
	for name, at := range last {
		if got := x.Params[name].Timestamp; got != at {
			t.Errorf("parameter %s at %d, want %d", name, got, at)
		}
	}
	if checked == 0 {
		t.Fatal("the fixture has no upload with metadata")
	}

	src := filepath.Join(t.TempDir(), "floats.zip")
	writeRawZip(t, src, map[string][]byte{
		"experiment.json": []byte(`{"offline_id":"0123456789abcdef0123456789abcdef","project_name":"p","workspace":null,"start_time":1764737713000,"stop_time":1764737716000,"tags":[]}`),
		"messages.json": []byte(`{"type":"log_other","payload":{"key":"ratio","value":3.0}}
{"type":"log_other","payload":{"key":"count","value":3}}
{"type":"metric_msg","payload":{"local_timestamp":1764737715000,"metric":{"metricName":"loss","metricValue":0.5,"step":1,"epoch":1}}}
`),
	})
	f := newEnv(t)
	if r := f.sync(t, context.Background(), synctest.Capture(t, src), ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	if o := f.srv.Experiments()[0].Others; o["ratio"] != "3.0" || o["count"] != "3" {
		t.Errorf("others ratio %q, count %q; want 3.0 and 3", o["ratio"], o["count"])
	}
}
