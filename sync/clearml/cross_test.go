package clearml

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCross_CometZipToClearML writes the fixture run as a Comet offline
// zip, captures the zip, syncs that archive to the ClearML test server and
// compares the task with the one synced from the run directory: every
// concept the two callbacks share arrives (the hyperparameters, every
// per-epoch scalar, the final validation, the Mosaic and Validation
// images, the plots Comet logged). docs/sessions.md lists what has no
// counterpart (Epoch Time, fitness, the results plot).
func TestCross_CometZipToClearML(t *testing.T) {
	dirArchive := synctest.Capture(t, "detect-clearml")
	out := t.TempDir()
	zr := ysync.One(context.Background(), dirArchive, comet.NewOffline(out, comet.Options{}), ysync.BatchOptions{})
	if zr.Status != ysync.StatusWritten {
		t.Fatal(zr.Error)
	}
	zipArchive := synctest.Capture(t, zr.Output)

	srv := clearmltest.New()
	defer srv.Close()
	cfg := Config{APIHost: srv.API.URL, WebHost: srv.WebURL(), FilesHost: srv.Files.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	quick := ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond}
	sync := func(archive, project string) string {
		r := New(cfg, ysync.Options{Project: project})
		r.SetClientOptions(quick)
		res := ysync.One(context.Background(), archive, r, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
		if res.Status != ysync.StatusSynced {
			t.Fatal(res.Error)
		}
		return res.RemoteID
	}
	fromZip, fromDir := sync(zipArchive, "from-zip"), sync(dirArchive, "from-dir")
	events := func(task string) map[string]clearmltest.Event {
		out := map[string]clearmltest.Event{}
		for _, e := range srv.Events(task) {
			out[fmt.Sprintf("%s|%s|%s|%d", e.Type, e.Metric, e.Variant, e.Iter)] = e
		}
		return out
	}
	z, d := events(fromZip), events(fromDir)
	var missing []string
	for k, e := range d {
		g, ok := z[k]
		switch {
		case ok:
			if e.Type == "training_stats_scalar" && math.Abs(g.Value-e.Value) > 1e-5*math.Max(1, math.Abs(e.Value)) {
				t.Errorf("%s = %v, run directory %v", k, g.Value, e.Value)
			}
		case strings.Contains(k, "|Epoch Time|"), strings.HasSuffix(k, "|Summary|fitness|-2147483648"), strings.HasPrefix(k, "plot|results|"):
			missing = append(missing, k) // not in a Comet session
		default:
			t.Errorf("%s of the run directory's replay is missing", k)
		}
	}
	for k := range z {
		if _, ok := d[k]; !ok {
			t.Errorf("%s is extra", k)
		}
	}
	if len(missing) != 5 { // 3 epoch times, fitness, results plot
		t.Errorf("without a counterpart: %v", missing)
	}
	a, _ := srv.Task(fromDir)
	b, _ := srv.Task(fromZip)
	if len(a.Hyperparams["General"]) < 100 {
		t.Fatalf("General has %d parameters", len(a.Hyperparams["General"]))
	}
	for k, it := range a.Hyperparams["General"] {
		if g := b.Hyperparams["General"][k]; g.Value != it.Value || g.Type != it.Type {
			t.Errorf("General/%s = %q (%s), run directory %q (%s)", k, g.Value, g.Type, it.Value, it.Type)
		}
	}
	_ = filepath.Join
}

// TestCross_YOLOv5CometZipToClearML syncs the capture of the hand-made
// Comet zip of a YOLOv5 run (testdata/comet-offline/yolov5-windows) to the
// ClearML test server: every per-epoch train/, val/ and metrics/ point
// arrives at its iteration (YOLOv5's Comet epoch 0 is iteration 0, not
// dropped), the final validation as single values and again at the last
// iteration (as ClearML's callback logs it), and the parameters
// with their types as the SDK stores them ([0] a list of ints, 0.0 a
// float, null without a type).
func TestCross_YOLOv5CometZipToClearML(t *testing.T) {
	archive := synctest.Capture(t, synctest.CometZip(t, "yolov5-windows"))
	srv := clearmltest.New()
	defer srv.Close()
	cfg := Config{APIHost: srv.API.URL, WebHost: srv.WebURL(), FilesHost: srv.Files.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	r := New(cfg, ysync.Options{})
	r.SetClientOptions(ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond})
	res := ysync.One(context.Background(), archive, r, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	if res.Status != ysync.StatusSynced {
		t.Fatal(res.Error)
	}
	got := map[string]float64{}
	for _, e := range srv.Events(res.RemoteID) {
		if e.Type == "training_stats_scalar" {
			got[fmt.Sprintf("%s@%d", e.Variant, e.Iter)] = e.Value
		}
	}
	for k, want := range map[string]float64{
		"train/box_loss@0": 0.04471, "train/box_loss@1": 0.04213, "metrics/mAP_0.5@0": 0.6693, "metrics/mAP_0.5@1": 0.6922,
		"val/cls_loss@0": 0.01131, "metrics/precision@-2147483648": 0.7301,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("scalar %s = %v (sent: %v), want %v", k, v, ok, want)
		}
	}
	task, _ := srv.Task(res.RemoteID)
	for k, want := range map[string][2]string{
		"freeze": {"[0]", "list"}, "label_smoothing": {"0.0", "float"}, "epochs": {"2", "int"}, "evolve": {"", ""},
		"data": {`C:\Users\ml\yolov5\data\coco128.yaml`, "str"}, "rect": {"False", "bool"},
	} {
		if g := task.Hyperparams["General"][k]; g.Value != want[0] || g.Type != want[1] {
			t.Errorf("General/%s = %q (%s), want %q (%s)", k, g.Value, g.Type, want[0], want[1])
		}
	}
}
