package clearmlsession_test

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
	_ "github.com/yoloarchive/yoloarchive/convert/cometsession"
	_ "github.com/yoloarchive/yoloarchive/convert/mlflowrun"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// TestDetect_SessionsAsBefore: with the readers registered as the
// command registers them, sessions are told as capture always told them,
// with the same messages: a folder with task.json (and no args.yaml) or
// with one offline-* session is ClearML's, one with experiment.json and
// messages.json Comet's, a zip by its root entries, and --session lists
// every kind it takes.
func TestDetect_SessionsAsBefore(t *testing.T) {
	dir := t.TempDir()
	file := func(p, body string) string {
		t.Helper()
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Dir(p)
	}
	both := func(a, b string) string {
		file(a, "{}")
		return file(b, "{}")
	}
	zipOf := func(name string, entries ...string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zw := zip.NewWriter(f)
		for _, e := range entries {
			w, _ := zw.Create(e)
			w.Write([]byte("{}"))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, src, kind, err string
	}{
		{"clearml folder", file("a/task.json", "{}"), schemas.SourceClearMLOffline, ""},
		{"clearml offline dir", filepath.Dir(file("b/offline-1/task.json", "{}")), schemas.SourceClearMLOffline, ""},
		{"run dir with task.json", both("c/args.yaml", "c/task.json"), schemas.SourceUltralyticsTrain, ""},
		{"comet folder", both("d/experiment.json", "d/messages.json"), schemas.SourceCometOffline, ""},
		{"clearml zip", zipOf("e.zip", "task.json", "metrics.jsonl"), schemas.SourceClearMLOffline, ""},
		{"comet zip", zipOf("f.zip", "messages.json"), schemas.SourceCometOffline, ""},
		{"unclosed clearml zip", zipOf("g.zip", "metrics.jsonl"), "", ": convert: not a run: a ClearML session zip without task.json (the session was not closed; its task cannot be rebuilt)"},
		{"other zip", zipOf("h.zip", "x.txt"), "", ": convert: not a run: a zip with neither task.json (ClearML offline session) nor experiment.json and messages.json (Comet offline experiment) at its root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, err := convert.Detect(tc.src)
			if tc.err != "" {
				if err == nil || err.Error() != tc.src+tc.err {
					t.Fatalf("err = %v, want %q", err, tc.src+tc.err)
				}
				return
			}
			if err != nil || kind != tc.kind {
				t.Fatalf("Detect = %q, %v; want %s", kind, err, tc.kind)
			}
		})
	}

	run := file("run/results.csv", "epoch,train/box_loss\n1,0.5\n")
	file("run/args.yaml", "task: detect\nmode: train\nepochs: 1\n")
	other := file("other/args.yaml", "task: detect\n")
	_, err := convert.Read(context.Background(), run, convert.Options{Sessions: []string{other}})
	want := other + ": --session takes a ClearML offline session, a Comet offline zip or a run of an MLflow file store, not a " + schemas.SourceUltralyticsTrain
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
