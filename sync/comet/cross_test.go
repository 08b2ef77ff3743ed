package comet_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCross_ClearMLSessionToComet syncs the archive of the SDK's ClearML
// session of the fixture run to the Comet test server, and compares the
// experiment with the one synced from the run directory: every shared
// concept arrives (parameters, the callback's others, every metric point
// by epoch, the batch images and the confusion matrices); the session adds
// the model information a run directory lacks, and its console log, one
// line per record. See docs/sessions.md for what has no counterpart.
func TestCross_ClearMLSessionToComet(t *testing.T) {
	session := filepath.Join(synctest.Fixtures(), "detect-clearml", "clearml_offline_session", "offline-65072dc9b8014849a4dc396a0eb301ec.zip")
	sessionArchive := synctest.Capture(t, session)
	fromSession := newEnv(t)
	r := fromSession.sync(t, context.Background(), sessionArchive, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	if x := fromSession.srv.Experiments()[0]; len(x.Output) != 18 || !strings.HasPrefix(x.Output[0].Output, "ClearML Task: created new task") || !strings.HasSuffix(x.Output[0].Output, "\n") {
		t.Errorf("console over REST: %d lines (want the session's 18, each ending its line), first %q", len(x.Output), x.Output[0].Output)
	}
	// The offline zip carries the console log and the session's tags.
	zipped := readZip(t, writeZip(t, sessionArchive, t.TempDir()).Output)
	if n := strings.Count(string(zipped["messages.json"]), `"type":"standard_output"`); n != 18 ||
		!strings.Contains(string(zipped["experiment.json"]), `"Ultralytics"`) {
		t.Errorf("zip: %d console messages; experiment.json %s", n, zipped["experiment.json"])
	}
	fromDir := newEnv(t)
	if r := fromDir.sync(t, context.Background(), synctest.Capture(t, "detect-clearml"), ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	s, d := fromSession.srv.Experiments()[0], fromDir.srv.Experiments()[0]
	points := func(ms []string) []string { sort.Strings(ms); return ms }
	var sp, dp []string
	dv := map[string]float64{}
	num := func(v any) float64 {
		f, _ := v.(float64)
		return f
	}
	for _, m := range s.Metrics {
		sp = append(sp, fmt.Sprintf("%s@%v", m.Name, deref(m.Epoch)))
	}
	for _, m := range d.Metrics {
		dp = append(dp, fmt.Sprintf("%s@%v", m.Name, deref(m.Epoch)))
		dv[fmt.Sprintf("%s@%v", m.Name, deref(m.Epoch))] = num(m.Value)
	}
	var extra []string
	have := map[string]int{}
	for _, p := range points(sp) {
		have[p]++
	}
	for _, p := range points(dp) {
		if have[p] == 0 {
			t.Errorf("metric point %s of the run directory's replay is missing", p)
		}
		have[p]--
	}
	for p, n := range have {
		if n > 0 {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	if strings.Join(extra, ",") != "model/GFLOPs@1,model/parameters@1,model/speed_PyTorch(ms)@1" {
		t.Errorf("extra points from the session: %v", extra)
	}
	if dv["train/box_loss@1"] == 0 {
		t.Fatalf("metric values are not numbers: %v", d.Metrics[0].Value)
	}
	for _, m := range s.Metrics {
		k := fmt.Sprintf("%s@%v", m.Name, deref(m.Epoch))
		if want, ok := dv[k]; ok && math.Abs(num(m.Value)-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, run directory %v", k, m.Value, want)
		}
	}
	for k, p := range d.Params {
		if q, ok := s.Params[k]; !ok || fmt.Sprint(q.Value) != fmt.Sprint(p.Value) {
			t.Errorf("parameter %s = %v, run directory %v", k, s.Params[k].Value, p.Value)
		}
	}
	for k, v := range d.Others {
		if k != "yoloarchive_run_id" && k != "yoloarchive_gaps" && s.Others[k] != v {
			t.Errorf("other %s = %q, run directory %q", k, s.Others[k], v)
		}
	}
	images := map[string]bool{}
	for _, a := range s.Assets {
		images[a.FileName] = true
	}
	for _, want := range []string{"train_batch0.jpg", "train_batch1.jpg", "train_batch2.jpg", "val_batch0_labels.jpg", "val_batch0_pred.jpg", "confusion_matrix.png", "confusion_matrix_normalized.png"} {
		if !images[want] {
			t.Errorf("image %s missing (have %v)", want, images)
		}
	}
	if s.Name != d.Name || s.Project != d.Project || s.Alive {
		t.Errorf("experiment %s/%s alive %v, run directory %s/%s", s.Project, s.Name, s.Alive, d.Project, d.Name)
	}
}
