package comet_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// call is one record of comet_calls.jsonl.
type call struct {
	Method string            `json:"method"`
	Args   []json.RawMessage `json:"args"`
	Kwargs map[string]any    `json:"kwargs"`
}

func readCalls(t *testing.T, run string) []call {
	f, err := os.Open(synctest.Calls(run, "comet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []call
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var c call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func build(t *testing.T, run string) (*comet.Log, *ysync.Run) {
	t.Helper()
	r, err := ysync.Open(context.Background(), synctest.Capture(t, run))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	l, err := comet.Build(r, comet.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l, r
}

var fixtureRuns = []string{"detect", "detect-savejson", "segment-savejson"}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	var xa, ya any
	json.Unmarshal(x, &xa)
	json.Unmarshal(y, &ya)
	xs, _ := json.Marshal(xa)
	ys, _ := json.Marshal(ya)
	return string(xs) == string(ys)
}

func TestBuild_Parameters(t *testing.T) {
	for _, run := range fixtureRuns {
		l, _ := build(t, run)
		var want map[string]any
		json.Unmarshal(readCalls(t, run)[1].Args[0], &want)
		got := map[string]any{}
		for _, kv := range l.Calls[0].Params {
			got[kv.Key] = kv.Value
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d parameters, want %d", run, len(got), len(want))
		}
		for k, w := range want {
			if !jsonEqual(got[k], w) {
				t.Errorf("%s: parameter %s = %#v, want %#v", run, k, got[k], w)
			}
		}
		// Others.
		var others map[string]any
		json.Unmarshal(readCalls(t, run)[2].Args[0], &others)
		gotOthers := map[string]any{}
		for _, kv := range l.Calls[1].Others {
			gotOthers[kv.Key] = kv.Value
		}
		if !jsonEqual(gotOthers, others) || l.Calls[2].Others[0].Value != "ultralytics" {
			t.Errorf("%s: others %v, want %v", run, gotOthers, others)
		}
	}
}

// metricCalls lists log_metrics calls as "step/epoch name=value" lines,
// leaving out the model information the run directory cannot give (gap
// model_info).
func TestBuild_Metrics(t *testing.T) {
	for _, run := range fixtureRuns {
		l, _ := build(t, run)
		var want []string
		for _, c := range readCalls(t, run) {
			if c.Method != "log_metrics" {
				continue
			}
			var m map[string]float64
			json.Unmarshal(c.Args[0], &m)
			var keys []string
			for k := range m {
				if !strings.HasPrefix(k, "model/") {
					keys = append(keys, k)
				}
			}
			if len(keys) == 0 {
				continue
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s=%s", k, csvPrecision(m[k])))
			}
			want = append(want, fmt.Sprintf("%v/%v %s", c.Kwargs["step"], c.Kwargs["epoch"], strings.Join(parts, " ")))
		}
		var got []string
		for _, c := range l.Calls {
			if c.Kind != comet.KindMetrics {
				continue
			}
			var parts []string
			ms := append([]comet.Metric(nil), c.Metrics...)
			sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
			for _, m := range ms {
				parts = append(parts, fmt.Sprintf("%s=%s", m.Name, csvPrecision(m.Value)))
			}
			got = append(got, fmt.Sprintf("%d/%d %s", *c.Step, *c.Epoch, strings.Join(parts, " ")))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s metrics:\n got %s\nwant %s", run, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	}
}

// TestBuild_Images compares the images that reached Comet live (files
// that existed) by name and step; prediction images also by annotation
// layers.
func TestBuild_Images(t *testing.T) {
	for _, run := range fixtureRuns {
		l, r := build(t, run)
		have := map[string]bool{}
		for _, img := range r.Images {
			have[img.Name] = img.Blob != ""
		}
		type img struct {
			step string
			ann  any
		}
		want := map[string]img{}
		for _, c := range readCalls(t, run) {
			if c.Method != "log_image" {
				continue
			}
			name := c.Kwargs["name"].(string)
			if !have[name] {
				continue // the callback passed a file that does not exist: nothing uploaded
			}
			want[name] = img{fmt.Sprint(c.Kwargs["step"]), c.Kwargs["annotations"]}
		}
		got := map[string]img{}
		for _, c := range l.Calls {
			if c.Kind != comet.KindImage {
				continue
			}
			step := "<nil>"
			if c.Step != nil {
				step = fmt.Sprint(*c.Step)
			}
			var ann any
			if len(c.Annotations) > 0 {
				ann = annotationsJSON(c.Annotations)
			}
			got[c.Name] = img{step, ann}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d images, want %d", run, len(got), len(want))
		}
		for name, w := range want {
			g, ok := got[name]
			if !ok || g.step != w.step {
				t.Errorf("%s: image %s step %q (found %v), want %q", run, name, g.step, ok, w.step)
				continue
			}
			if w.ann != nil && !layersNear(g.ann, w.ann) {
				gb, _ := json.Marshal(g.ann)
				wb, _ := json.Marshal(w.ann)
				t.Errorf("%s: image %s annotations\n got %s\nwant %s", run, name, gb, wb)
			}
		}
	}
}

// csvPrecision rounds to the 6 significant digits results.csv keeps (the
// callback logs round(v, 5), so 13.40366 live is 13.4037 in the CSV).
func csvPrecision(v float64) string { return fmt.Sprintf("%.6g", v) }

// annotationsJSON renders layers as log_image's annotations argument.
func annotationsJSON(ls []comet.Layer) any {
	var out []any
	for _, l := range ls {
		var data []any
		for _, a := range l.Data {
			d := map[string]any{"label": a.Label, "score": a.Score}
			if a.Boxes != nil {
				d["boxes"] = a.Boxes
			}
			if a.Points != nil {
				d["points"] = a.Points
			}
			data = append(data, d)
		}
		out = append(out, map[string]any{"name": l.Name, "data": data})
	}
	b, _ := json.Marshal(out)
	var v any
	json.Unmarshal(b, &v)
	return v
}

// layersNear compares annotation JSON with numbers to 1e-3 (the live
// boxes went through float32 tensors).
func layersNear(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !layersNear(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !layersNear(x[k], y[k]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-3*math.Max(1, math.Abs(y))
	}
	return a == b
}

func TestBuild_ProjectAndTimes(t *testing.T) {
	l, r := build(t, "detect")
	if l.Project != "home-trainer-runs" || l.Name != "detect" || l.RunID != r.RunID() {
		t.Errorf("project %q name %q", l.Project, l.Name)
	}
	if !l.End.After(l.Start) && !l.End.Equal(l.Start) {
		t.Errorf("start %v end %v", l.Start, l.End)
	}
}
