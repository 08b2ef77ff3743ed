package cometsession_test

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	_ "github.com/yoloarchive/yoloarchive/convert/cometsession"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// sessionTables captures a session and reads its tables back.
type sessionTables struct {
	run     schemas.RunRow
	scalars []schemas.ScalarRow
	params  map[string]schemas.ParamRow // section/key
	summary []schemas.SummaryRow
	images  []schemas.ImageRow
	gaps    []schemas.GapRow
}

func captureSession(t *testing.T, src string) sessionTables {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "out.tar.zst")
	if _, err := convert.Capture(context.Background(), src, dst, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var st sessionTables
	runs, err := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
	if err != nil || len(runs) != 1 {
		t.Fatalf("run table: %d rows, %v", len(runs), err)
	}
	st.run = runs[0]
	st.scalars, _ = archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	params, _ := archive.ReadTable[schemas.ParamRow](context.Background(), a, schemas.TableParams)
	st.params = map[string]schemas.ParamRow{}
	for _, p := range params {
		st.params[p.Section+"/"+p.Key] = p
	}
	st.summary, _ = archive.ReadTable[schemas.SummaryRow](context.Background(), a, schemas.TableSummary)
	st.images, _ = archive.ReadTable[schemas.ImageRow](context.Background(), a, schemas.TableImages)
	st.gaps, _ = archive.ReadTable[schemas.GapRow](context.Background(), a, schemas.TableGaps)
	return st
}

// TestSession_YOLOv5Comet captures the hand-made Comet zip of a YOLOv5 run
// written on Windows (testdata/comet-offline/yolov5-windows): the run is
// recognised as a YOLOv5 detect run from what the session logged, every
// metric point keeps the epoch it was logged with (0 and null apart) and
// gets its 1-based epoch, parameters keep their JSON types (list items
// too) and last logging time, the image names keep their Windows paths,
// and the final validation logged again at the last step is the summary.
func TestSession_YOLOv5Comet(t *testing.T) {
	st := captureSession(t, synctest.CometZip(t, "yolov5-windows"))
	r := st.run
	if r.Producer != schemas.ProducerYOLOv5 || r.Task != "detect" || r.VersionMin != nil || r.VersionMax != nil {
		t.Errorf("producer %q, task %q, version %v to %v; want a YOLOv5 detect run", r.Producer, r.Task, r.VersionMin, r.VersionMax)
	}
	if !slices.ContainsFunc(r.VersionEvidence, func(e string) bool { return strings.Contains(e, `"Created from" is "YOLOv5"`) }) {
		t.Errorf("version evidence %q", r.VersionEvidence)
	}
	if r.Status != schemas.StatusFinished || r.EpochsCompleted != 2 || r.EpochsPlanned == nil || *r.EpochsPlanned != 2 ||
		r.Batch == nil || *r.Batch != 16 || r.Name != "exp" || r.SaveDir != `runs\train\exp` || r.Project != "yolov5" {
		t.Errorf("run %+v", r)
	}
	for _, g := range st.gaps {
		if g.Item == "ultralytics_version" {
			t.Errorf("gap %s: a YOLOv5 run has no Ultralytics version", g.Item)
		}
	}

	var box, sys []string
	for _, s := range st.scalars {
		p := func(q *int64) string {
			if q == nil {
				return "null"
			}
			return strconv.FormatInt(*q, 10)
		}
		pt := "step " + p(s.Step) + " logged " + p(s.SessionEpoch) + " epoch " + p(&s.Epoch)
		switch s.Metric {
		case "train/box_loss":
			box = append(box, pt)
		case "sys.cpu.percent.avg":
			sys = append(sys, pt)
		}
	}
	if got, want := strings.Join(box, "; "), "step 7 logged 0 epoch 1; step 15 logged 1 epoch 2; step 15 logged 1 epoch 2"; got != want {
		t.Errorf("train/box_loss points: %s\nwant %s", got, want)
	}
	if got, want := strings.Join(sys, "; "), "step null logged null epoch 0; step 7 logged 0 epoch 1; step 15 logged 1 epoch 2"; got != want {
		t.Errorf("sys.cpu.percent.avg points: %s\nwant %s", got, want)
	}

	for _, tc := range []struct {
		key, typ, text string
		items, types   []string
	}{
		{"freeze", schemas.TypeList, "[0]", []string{"0"}, []string{schemas.TypeInt}},
		{"label_smoothing", schemas.TypeFloat, "0.0", nil, nil},
		{"warmup_epochs", schemas.TypeFloat, "3.0", nil, nil},
		{"epochs", schemas.TypeInt, "2", nil, nil},
		{"evolve", schemas.TypeNull, "null", nil, nil},
		{"rect", schemas.TypeBool, "false", nil, nil},
		{"data", schemas.TypeString, `C:\Users\ml\yolov5\data\coco128.yaml`, nil, nil},
	} {
		p, ok := st.params["args/"+tc.key]
		if !ok {
			t.Errorf("parameter %s missing", tc.key)
			continue
		}
		if p.Type != tc.typ || p.Text != tc.text || !slices.Equal(p.Items, tc.items) || !slices.Equal(p.ItemTypes, tc.types) {
			t.Errorf("parameter %s: type %s text %q items %q item types %q; want %s %q %q %q", tc.key, p.Type, p.Text, p.Items, p.ItemTypes, tc.typ, tc.text, tc.items, tc.types)
		}
	}
	// hyp is logged twice (CometLogger.__init__ and on_train_start): the
	// last time counts, as for the value.
	if p := st.params["args/lr0"]; p.WallTime == nil || p.WallTime.UnixMilli() != 1718006405000 {
		t.Errorf("lr0 logged at %v, want the second logging (1718006405000)", p.WallTime)
	}
	if p := st.params["others/offline_experiment"]; p.Type != schemas.TypeBool || p.Bool == nil || !*p.Bool {
		t.Errorf("other offline_experiment %+v", p)
	}
	if p := st.params["others/comet_mode"]; p.String == nil || *p.String != "online" {
		t.Errorf("other comet_mode %+v", p)
	}

	final := map[string]float64{}
	for _, s := range st.summary {
		if s.Exact && s.Epoch != nil && *s.Epoch == 2 {
			final[s.Key] = s.Value
		}
	}
	if len(final) != 4 || final["metrics/precision"] != 0.7301 || final["metrics/mAP_0.5:0.95"] != 0.4611 {
		t.Errorf("final validation %v", final)
	}
	var names []string
	for _, img := range st.images {
		names = append(names, img.Series)
	}
	if want := `C:\Users\ml\datasets\coco128\images\train2017\000000000009_curr_epoch_0`; len(names) != 2 || names[0] != want {
		t.Errorf("image names %q", names)
	}
}

// cometZip writes a Comet offline zip holding the given messages.
func cometZip(t *testing.T, msgs ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "session.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, e := range [][2]string{
		{"experiment.json", `{"offline_id":"0123456789abcdef0123456789abcdef","project_name":"p","start_time":1764737713000,"stop_time":1764737715000,"tags":[]}`},
		{"messages.json", strings.Join(msgs, "\n") + "\n"},
	} {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func other(k, v string) string {
	return `{"type":"log_other","payload":{"key":"` + k + `","value":` + v + `}}`
}

func param(k, v string) string {
	form := "param"
	if strings.HasPrefix(v, "[") {
		form = "params"
	}
	return `{"type":"parameter_msg","payload":{"local_timestamp":1764737713100,"` + form + `":{"paramName":"` + k + `","paramValue":` + v + `,"step":null,"source":"manual"}}}`
}

func point(name string, epoch string) string {
	return `{"type":"metric_msg","payload":{"local_timestamp":1764737714000,"metric":{"metricName":"` + name + `","metricValue":0.5,"step":4,"epoch":` + epoch + `}}}`
}

// TestSession_CometProducer recognises the producer, task and version
// range of Comet sessions from what each logged, in the order the
// signals are trusted: the "Created from" other, the callback's other
// settings, the parameter keys, the metric names.
func TestSession_CometProducer(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		msgs                   []string
		producer, task, vr     string
		firstEpoch, firstValue string
	}{
		{"yolov8 callback, no settings", []string{other("Created from", `"yolov8"`), point("train/seg_loss", "1")},
			schemas.ProducerUltralytics, "segment", "8.0.0-8.3.20", "1", "1"},
		{"ultralytics callback with args", []string{other("Created from", `"ultralytics"`), param("task", `"pose"`), param("mode", `"train"`), point("train/pose_loss", "1")},
			schemas.ProducerUltralytics, "pose", "8.3.21-8.4.x", "1", "1"},
		{"8.0.67-8.0.117 others", []string{other("log_confusion_matrix", "true"), point("train/box_loss", "2")},
			schemas.ProducerUltralytics, "detect", "8.0.67-8.0.117", "2", "2"},
		{"YOLOv5 opt keys", []string{param("noautoanchor", "false"), param("freeze", "[0]"), point("train/box_loss", "0")},
			schemas.ProducerYOLOv5, "detect", "-", "1", "0"},
		{"YOLOv5 metric names", []string{point("train/obj_loss", "0"), point("x/lr0", "null")},
			schemas.ProducerYOLOv5, "", "-", "1", "0"},
		{"unknown", []string{point("loss", "3")}, "", "", "-", "3", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := captureSession(t, cometZip(t, tc.msgs...))
			r := st.run
			vr := "-"
			if r.VersionMin != nil {
				vr = *r.VersionMin + "-" + *r.VersionMax
			}
			if r.Producer != tc.producer || r.Task != tc.task || vr != tc.vr {
				t.Errorf("producer %q task %q versions %s (%q); want %q %q %s", r.Producer, r.Task, vr, r.VersionEvidence, tc.producer, tc.task, tc.vr)
			}
			s := st.scalars[0]
			if got := strconv.FormatInt(s.Epoch, 10); got != tc.firstEpoch || s.SessionEpoch == nil || strconv.FormatInt(*s.SessionEpoch, 10) != tc.firstValue {
				t.Errorf("first point: epoch %d, logged %v; want %s, %s", s.Epoch, s.SessionEpoch, tc.firstEpoch, tc.firstValue)
			}
		})
	}
}

// TestSession_CometParamTypes: a parameter keeps its JSON type, and each
// item of a list its own (a string "2" stays a string in a mixed list).
func TestSession_CometParamTypes(t *testing.T) {
	st := captureSession(t, cometZip(t, param("mixed", `[1,"2",2.5,true,null,"x",1e-05]`), param("strs", `["0","1"]`),
		param("floats", `[0.0,1.5]`), param("empty", `[]`), param("obj", `{"a":1.0}`)))
	for _, tc := range []struct {
		key, typ, itemType string
		items, types       []string
	}{
		{"mixed", schemas.TypeList, schemas.TypeMixed, []string{"1", "2", "2.5", "true", "null", "x", "1e-05"},
			[]string{"int", "str", "float", "bool", "null", "str", "float"}},
		{"strs", schemas.TypeList, schemas.TypeString, []string{"0", "1"}, []string{"str", "str"}},
		{"floats", schemas.TypeList, schemas.TypeFloat, []string{"0.0", "1.5"}, []string{"float", "float"}},
		{"empty", schemas.TypeList, "", nil, nil},
		{"obj", schemas.TypeJSON, "", nil, nil},
	} {
		p := st.params["args/"+tc.key]
		if p.Type != tc.typ || p.ItemType != tc.itemType || !slices.Equal(p.Items, tc.items) || !slices.Equal(p.ItemTypes, tc.types) {
			t.Errorf("%s: %s of %q: %q typed %q; want %s of %q: %q typed %q", tc.key, p.Type, p.ItemType, p.Items, p.ItemTypes, tc.typ, tc.itemType, tc.items, tc.types)
		}
	}
}
