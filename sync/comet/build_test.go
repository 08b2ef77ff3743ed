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

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
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
	l, err := comet.Build(context.Background(), r, comet.Options{})
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

// liveSequence lists the recorded calls that a replay can reproduce, as
// "method name step" keys in call order: calls on files that did not
// exist live, the confusion matrix numbers (gap confusion_matrix_values)
// and, unless withModel, log_model (the fixtures have no weights/) are
// left out; runs of batch images are sorted (the glob's directory order
// is not recorded).
func liveSequence(t *testing.T, run string, have map[string]bool, withModel bool) []string {
	var out []string
	for _, c := range readCalls(t, run) {
		switch c.Method {
		case "start", "end", "log_confusion_matrix":
			continue
		case "log_model":
			if !withModel {
				continue
			}
			var name string
			json.Unmarshal(c.Args[0], &name)
			out = append(out, "log_model "+name+" <nil>")
		case "log_image":
			name := c.Kwargs["name"].(string)
			if !have[name] {
				continue
			}
			out = append(out, fmt.Sprintf("log_image %s %v", name, c.Kwargs["step"]))
		case "log_metrics":
			var m map[string]float64
			json.Unmarshal(c.Args[0], &m)
			model := false
			for k := range m {
				model = model || strings.HasPrefix(k, "model/")
			}
			if model {
				continue // gap model_info
			}
			out = append(out, fmt.Sprintf("log_metrics %d %v", len(m), c.Kwargs["step"]))
		default:
			out = append(out, c.Method+" - <nil>")
		}
	}
	return sortBatchRuns(out)
}

// builtSequence renders a Log's calls like liveSequence.
func builtSequence(l *comet.Log) []string {
	var out []string
	for _, c := range l.Calls {
		step := "<nil>"
		if c.Step != nil {
			step = fmt.Sprint(*c.Step)
		}
		switch c.Kind {
		case comet.KindMetrics:
			out = append(out, fmt.Sprintf("log_metrics %d %s", len(c.Metrics), step))
		case comet.KindImage, comet.KindModel:
			out = append(out, fmt.Sprintf("%s %s %s", c.Kind, c.Name, step))
		default:
			out = append(out, c.Kind+" - "+step)
		}
	}
	return sortBatchRuns(out)
}

func sortBatchRuns(keys []string) []string {
	isBatch := func(k string) bool {
		return strings.HasPrefix(k, "log_image train_batch") || strings.HasPrefix(k, "log_image val_batch")
	}
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && isBatch(keys[j]) {
			j++
		}
		if j > i {
			sort.Strings(keys[i:j])
			i = j
		} else {
			i++
		}
	}
	return keys
}

func haveImages(r *ysync.Run) map[string]bool {
	have := map[string]bool{}
	for _, img := range r.Images {
		have[img.Name] = have[img.Name] || img.Blob != ""
	}
	return have
}

// TestBuild_CallOrder: the calls come in the callback's order (kind,
// image name, step, metric group size), every fixture.
func TestBuild_CallOrder(t *testing.T) {
	for _, run := range fixtureRuns {
		l, r := build(t, run)
		got, want := builtSequence(l), liveSequence(t, run, haveImages(r), false)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s calls:\n got %s\nwant %s", run, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	}
}

// TestBuild_Model: a run with weights/best.pt (the genuine small
// checkpoint) gets log_model("Ultralytics", best.pt, overwrite=True) where
// the callback made it, with the archive's blob; before 8.3.9 the model is
// "YOLOv8".
func TestBuild_Model(t *testing.T) {
	for _, run := range fixtureRuns {
		archive := synctest.Capture(t, synctest.WithWeights(t, run))
		r, err := ysync.Open(context.Background(), archive)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		best, ok := r.Asset("weights_best")
		if !ok {
			t.Fatalf("%s: no weights_best asset", run)
		}
		l, err := comet.Build(context.Background(), r, comet.Options{Options: ysync.Options{Version: "8.3.166"}})
		if err != nil {
			t.Fatal(err)
		}
		got, want := builtSequence(l), liveSequence(t, run, haveImages(r), true)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s calls:\n got %s\nwant %s", run, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		var models []comet.Call
		for _, c := range l.Calls {
			if c.Kind == comet.KindModel {
				models = append(models, c)
			}
		}
		if len(models) != 1 || models[0].Name != "Ultralytics" || !models[0].Overwrite || models[0].Step != nil ||
			models[0].File.Name != "best.pt" || models[0].File.Digest != best.Blob || models[0].File.Size != best.Size {
			t.Errorf("%s: model calls %+v, want one of best.pt %s", run, models, best.Blob)
		}
		if p := l.Counts(); p.ModelBytes != best.Size {
			t.Errorf("%s: plan model bytes %d, want %d", run, p.ModelBytes, best.Size)
		}
		old, _ := comet.Build(context.Background(), r, comet.Options{Options: ysync.Options{Version: "8.3.8"}})
		for _, c := range old.Calls {
			if c.Kind == comet.KindModel && c.Name != "YOLOv8" {
				t.Errorf("%s: 8.3.8 model name %q, want YOLOv8", run, c.Name)
			}
		}
	}
}

// names lists a Log's calls of a kind as "name@step" (files by name).
func names(l *comet.Log, kind string) []string {
	var out []string
	for _, c := range l.Calls {
		if c.Kind != kind {
			continue
		}
		n := c.Name
		if n == "" && c.File != nil {
			n = c.File.Name
		}
		if c.Step != nil {
			n += fmt.Sprintf("@%d", *c.Step)
		}
		out = append(out, n)
	}
	return out
}

func buildVersion(t *testing.T, r *ysync.Run, v string) *comet.Log {
	t.Helper()
	l, err := comet.Build(context.Background(), r, comet.Options{Options: ysync.Options{Version: v}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func others(l *comet.Log) map[string]any {
	m := map[string]any{}
	for _, c := range l.Calls {
		for _, kv := range c.Others {
			m[kv.Key] = kv.Value
		}
	}
	return m
}

// TestBuild_Versions: the version-dependent calls of B.3/B.8 on the
// fixtures' files.
func TestBuild_Versions(t *testing.T) {
	_, r := build(t, "detect")
	join := func(s []string) string { return strings.Join(s, " ") }

	// 8.3.166 (the fixtures): unprefixed curve names that do not exist,
	// correlogram, batch images at the last step, no table or asset.
	l := buildVersion(t, r, "")
	if g := join(names(l, comet.KindImage)); g != "confusion_matrix confusion_matrix_normalized labels labels_correlogram train_batch0@6 train_batch1@6 train_batch2@6 val_batch0_labels@6 val_batch0_pred@6" {
		t.Errorf("8.3.166 images: %s", g)
	}
	if len(names(l, comet.KindTable))+len(names(l, comet.KindAsset)) != 0 {
		t.Errorf("8.3.166: table or asset logged")
	}

	// 8.3.176+: Box* curves, no correlogram; results.csv table then
	// args.yaml asset, last.
	l = buildVersion(t, r, "8.3.176")
	if g := join(names(l, comet.KindImage)); g != "BoxF1_curve BoxP_curve BoxR_curve BoxPR_curve confusion_matrix confusion_matrix_normalized labels train_batch0@6 train_batch1@6 train_batch2@6 val_batch0_labels@6 val_batch0_pred@6" {
		t.Errorf("8.3.176 images: %s", g)
	}
	n := len(l.Calls)
	if n < 2 || l.Calls[n-2].Kind != comet.KindTable || l.Calls[n-2].File.Name != "results.csv" ||
		l.Calls[n-1].Kind != comet.KindAsset || l.Calls[n-1].File.Name != "args.yaml" {
		t.Errorf("8.3.176: last calls %+v", l.Calls[n-2:])
	}
	for _, c := range l.Calls[n-2:] {
		if a, ok := r.Asset(map[string]string{"results.csv": "results_csv", "args.yaml": "args_yaml"}[c.File.Name]); !ok || a.Blob != c.File.Digest {
			t.Errorf("8.3.176: %s is not the archive's file", c.File.Name)
		}
	}

	// 8.3.20: "yolov8"; train_batch0-2 right after epoch 1's train
	// losses at its step; no val batch images; the label plots.
	l = buildVersion(t, r, "8.3.20")
	if o := others(l); o["Created from"] != "yolov8" {
		t.Errorf("8.3.20 others %v", o)
	}
	if g := join(names(l, comet.KindImage)); g != "train_batch0@2 train_batch1@2 train_batch2@2 confusion_matrix labels labels_correlogram" {
		t.Errorf("8.3.20 images: %s", g)
	}
	if l.Calls[3].Kind != comet.KindMetrics || !strings.HasPrefix(l.Calls[3].Metrics[0].Name, "train/") || l.Calls[4].Kind != comet.KindImage {
		t.Errorf("8.3.20: epoch-1 batch images not after the train losses: %s, %s", l.Calls[3].Kind, l.Calls[4].Kind)
	}

	// Before 8.0.118 the others key was log_confusion_matrix, default true.
	if o := others(buildVersion(t, r, "8.0.100")); o["log_confusion_matrix"] != true || o["log_confusion_matrix_on_eval"] != nil {
		t.Errorf("8.0.100 others %v", o)
	}

	// Segment predictions start with 8.3.87.
	_, seg := build(t, "segment-savejson")
	if g := names(buildVersion(t, seg, "8.3.86"), comet.KindImage); strings.Contains(join(g), "000017") {
		t.Errorf("8.3.86 segment logged predictions: %s", join(g))
	}
	if g := names(buildVersion(t, seg, "8.3.87"), comet.KindImage); !strings.Contains(join(g), "000017@6") {
		t.Errorf("8.3.87 segment lacks predictions: %s", join(g))
	}
}

// TestBuild_MaxImagePredictions: the cap limits the prediction images
// (first in file-name order) and is recorded in the others.
func TestBuild_MaxImagePredictions(t *testing.T) {
	_, r := build(t, "detect-savejson")
	l, err := comet.Build(context.Background(), r, comet.Options{MaxImagePredictions: 3})
	if err != nil {
		t.Fatal(err)
	}
	var preds []string
	for _, c := range l.Calls {
		if c.Kind == comet.KindImage && len(c.Annotations) > 0 {
			preds = append(preds, c.Name)
		}
	}
	if strings.Join(preds, " ") != "000017 000018 000019" || others(l)["max_image_predictions"] != int64(3) {
		t.Errorf("predictions %v, others %v", preds, others(l))
	}
}

// TestBuild_Options: project, name, workspace and tags overrides; the
// callback's project path becomes a valid Comet project name.
func TestBuild_Options(t *testing.T) {
	_, r := build(t, "detect")
	l, _ := comet.Build(context.Background(), r, comet.Options{Workspace: "ws", Options: ysync.Options{Project: "p", Name: "n", Tags: []string{"a"}}})
	if l.Workspace != "ws" || l.Project != "p" || l.Name != "n" || strings.Join(l.Tags, ",") != "a" {
		t.Errorf("options not applied: %+v", l)
	}
	for in, want := range map[string]string{"/home/trainer/runs": "home-trainer-runs", "": "Ultralytics", "runs/detect": "runs-detect", "/": "Ultralytics"} {
		if got := comet.ProjectName(in); got != want {
			t.Errorf("ProjectName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := comet.ProjectName("/" + strings.Repeat("x", 150)); len(got) >= 100 {
		t.Errorf("ProjectName kept %d characters, Comet allows < 100", len(got))
	}
}

// oddRun is a run held in memory (no blobs), for archives with missing
// tables, zero epochs or odd values.
func oddRun(info schemas.RunRow, scalars []schemas.ScalarRow, summary []schemas.SummaryRow) *ysync.Run {
	return &ysync.Run{Archive: &archive.Archive{Header: schemas.Header{RunID: "0123456789abcdef0123456789abcdef"}},
		Tables: archive.Tables{Info: info, Scalars: scalars, Summary: summary}}
}

// TestBuild_OddRuns: no tables, zero epochs, NaN and infinite values,
// interrupted and unknown-status runs build without panicking; values are
// kept as they are; an interrupted run gets no train-end calls.
func TestBuild_OddRuns(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	sc := func(m string, e int64, v float64) schemas.ScalarRow {
		return schemas.ScalarRow{Metric: m, Epoch: e, Value: v}
	}
	cases := map[string]*ysync.Run{
		"empty":            oddRun(schemas.RunRow{}, nil, nil),
		"finished-no-rows": oddRun(schemas.RunRow{Status: schemas.StatusFinished, Name: "x"}, nil, nil),
		"nan": oddRun(schemas.RunRow{Status: schemas.StatusFinished, Name: "x"},
			[]schemas.ScalarRow{sc("train/box_loss", 1, nan), sc("metrics/mAP50(B)", 1, inf), sc("time", 1, nan), sc("epoch", 1, 1)},
			[]schemas.SummaryRow{{Key: "metrics/mAP50(B)", Value: math.Inf(-1)}}),
		"interrupted": oddRun(schemas.RunRow{Status: schemas.StatusInterrupted},
			[]schemas.ScalarRow{sc("train/box_loss", 1, 1), sc("lr/pg0", 1, 0.1)}, []schemas.SummaryRow{{Key: "metrics/mAP50(B)", Value: 1}}),
		"epoch-zero": oddRun(schemas.RunRow{Status: schemas.StatusUnknown}, []schemas.ScalarRow{sc("train/box_loss", 0, 1), sc("train/box_loss", -3, 1)}, nil),
	}
	for name, r := range cases {
		l, err := comet.Build(context.Background(), r, comet.Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if l.Name != r.Info.Name || l.Project != "Ultralytics" || len(l.Calls) < 3 {
			t.Errorf("%s: name %q project %q, %d calls", name, l.Name, l.Project, len(l.Calls))
		}
		if _, _, err := comet.Messages(l); err != nil {
			t.Errorf("%s: messages: %v", name, err)
		}
	}
	l, _ := comet.Build(context.Background(), cases["nan"], comet.Options{})
	got := builtSequence(l)
	if strings.Join(got, "|") != "log_parameters - <nil>|log_others - <nil>|log_other - <nil>|log_metrics 1 1|log_metrics 1 1|log_metrics 1 1" ||
		!math.IsNaN(l.Calls[3].Metrics[0].Value) || !math.IsInf(l.Calls[4].Metrics[0].Value, 1) || !math.IsInf(l.Calls[5].Metrics[0].Value, -1) {
		t.Errorf("nan run: %v %+v", got, l.Calls[3:])
	}
	l, _ = comet.Build(context.Background(), cases["interrupted"], comet.Options{})
	if got := strings.Join(builtSequence(l), "|"); got != "log_parameters - <nil>|log_others - <nil>|log_other - <nil>|log_metrics 1 1|log_metrics 1 1" {
		t.Errorf("interrupted run: %s", got)
	}
	l, _ = comet.Build(context.Background(), cases["epoch-zero"], comet.Options{})
	if len(l.Calls) != 3 {
		t.Errorf("epoch-zero run: %d calls, want the 3 setup calls", len(l.Calls))
	}
}

// TestBuild_ModelInfo: model information the archive holds (a summary
// from a tracker session) is logged at epoch 1 after lr/*, and again with
// the final validation when the run has one epoch.
func TestBuild_ModelInfo(t *testing.T) {
	info := schemas.RunRow{Status: schemas.StatusFinished, Name: "m", TrainImages: ptr64(40), Batch: ptr64(16)}
	rows := []schemas.ScalarRow{
		{Metric: "train/box_loss", Epoch: 1, Value: 1}, {Metric: "metrics/mAP50(B)", Epoch: 1, Value: 0.5}, {Metric: "lr/pg0", Epoch: 1, Value: 0.1},
		{Metric: "train/box_loss", Epoch: 2, Value: 0.9}, {Metric: "metrics/mAP50(B)", Epoch: 2, Value: 0.6}, {Metric: "lr/pg0", Epoch: 2, Value: 0.05},
	}
	summary := []schemas.SummaryRow{{Key: "metrics/mAP50(B)", Value: 0.6}, {Key: "model/parameters", Value: 2590230}, {Key: "model/GFLOPs", Value: 6.4}}
	l, _ := comet.Build(context.Background(), oddRun(info, rows, summary), comet.Options{})
	want := "log_parameters - <nil>|log_others - <nil>|log_other - <nil>|" +
		"log_metrics 1 2|log_metrics 1 2|log_metrics 1 2|log_metrics 2 2|" + // epoch 1 at step 1×(40//16)
		"log_metrics 1 4|log_metrics 1 4|log_metrics 1 4|" + // epoch 2
		"log_metrics 1 4|log_metrics 1 4" // final validation duplicate
	if got := strings.Join(builtSequence(l), "|"); got != want {
		t.Errorf("calls\n got %s\nwant %s", got, want)
	}
	if m := l.Calls[6].Metrics; m[0].Name != "model/parameters" || m[0].Value != 2590230 || *l.Calls[6].Epoch != 1 {
		t.Errorf("model info %+v", l.Calls[6])
	}
	l, _ = comet.Build(context.Background(), oddRun(info, rows[:3], summary), comet.Options{})
	if got := strings.Join(builtSequence(l), "|"); !strings.HasSuffix(got, "log_metrics 2 2|log_metrics 1 2|log_metrics 1 2|log_metrics 2 2") {
		t.Errorf("one-epoch run: %s", got)
	}
}

func ptr64(v int64) *int64 { return &v }
