package clearmlsession_test

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yoloarchive/yoloarchive/convert"
	_ "github.com/yoloarchive/yoloarchive/convert/clearmlsession"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// sessionFolder is the genuine session of the 3-epoch detect run.
var sessionFolder = filepath.Join("..", "..", "testdata", "ultralytics-8.3.166", "detect-clearml", "clearml_offline_session", "offline-65072dc9b8014849a4dc396a0eb301ec")

// FuzzClearMLSession captures a session whose metrics.jsonl and
// log.jsonl are the fuzzed input: never a panic, and an error is one line
// naming the session. The session is held in memory (convert.ReadFS): a
// folder on disk cost more in writes, opens and stats than the parsing
// it checks.
func FuzzClearMLSession(f *testing.F) {
	metrics, _ := os.ReadFile(filepath.Join(sessionFolder, "metrics.jsonl"))
	logs, _ := os.ReadFile(filepath.Join(sessionFolder, "log.jsonl"))
	f.Add(metrics, logs)
	f.Add([]byte(`[{"type":"training_stats_scalar","task":"offline-65072dc9b8014849a4dc396a0eb301ec","iter":-2147483648,"metric":"Summary","variant":"x","value":1e309}]`), []byte("[{}]"))
	f.Add([]byte(`[{"type":"plot","task":"offline-65072dc9b8014849a4dc396a0eb301ec","plot_str":"{\"layout\":{\"images\":[{\"source\":\"/x/data/../../../etc/passwd\"}]}}"}]`), []byte("["))
	session := clearMLFuzzSession(f)
	f.Fuzz(func(t *testing.T, metrics, logs []byte) { readClearMLSession(t, session, metrics, logs) })
}

// clearMLFuzzName is the name the ClearML fuzz target's session goes by.
const clearMLFuzzName = "/fuzz/offline-65072dc9b8014849a4dc396a0eb301ec"

// clearMLFuzzSession is the session the ClearML fuzz target fills with
// each input: the fixture's task.json and an empty data folder.
func clearMLFuzzSession(tb testing.TB) fstest.MapFS {
	task, err := os.ReadFile(filepath.Join(sessionFolder, "task.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return fstest.MapFS{
		"task.json": {Data: task, Mode: 0o644},
		"data":      {Mode: fs.ModeDir | 0o755},
	}
}

// readClearMLSession is FuzzClearMLSession's body.
func readClearMLSession(tb testing.TB, session fstest.MapFS, metrics, logs []byte) {
	fsys := maps.Clone(session)
	fsys["metrics.jsonl"] = &fstest.MapFile{Data: metrics, Mode: 0o644}
	fsys["log.jsonl"] = &fstest.MapFile{Data: logs, Mode: 0o644}
	r, err := convert.ReadFS(context.Background(), fsys, clearMLFuzzName, schemas.SourceClearMLOffline, convert.Options{Workers: 1})
	if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), clearMLFuzzName)) {
		tb.Fatalf("bad error: %q", err)
	}
	if err == nil {
		r.Close()
	}
}

// BenchmarkFuzzBody runs FuzzClearMLSession's body over its first seed:
// what one fuzz input costs, to profile (go test -fuzz takes no
// -cpuprofile).
func BenchmarkFuzzBody(b *testing.B) {
	metrics, _ := os.ReadFile(filepath.Join(sessionFolder, "metrics.jsonl"))
	logs, _ := os.ReadFile(filepath.Join(sessionFolder, "log.jsonl"))
	session := clearMLFuzzSession(b)
	for b.Loop() {
		readClearMLSession(b, session, metrics, logs)
	}
}
