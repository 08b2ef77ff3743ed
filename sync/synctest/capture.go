package synctest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

// Fixtures is the directory of the genuine Ultralytics 8.3.166 runs.
func Fixtures() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ultralytics-8.3.166")
}

// Calls returns the path of a fixture run's recorded callback calls,
// e.g. Calls("detect", "comet").
func Calls(run, tracker string) string {
	return filepath.Join(Fixtures(), "..", "calls", run, tracker+"_calls.jsonl")
}

// Capture captures the fixture run dir (a name under Fixtures, e.g.
// "detect-clearml", or a path) into an archive in a test temporary
// directory and returns its path. The run's dataset is taken from the
// fixture datasets by task.
func Capture(tb testing.TB, run string) string {
	tb.Helper()
	src := run
	if !filepath.IsAbs(run) {
		src = filepath.Join(Fixtures(), run)
	}
	opts := convert.Options{Workers: 2}
	for _, task := range []string{"segment", "detect"} {
		if filepath.Base(src) == task || len(filepath.Base(src)) > len(task) && filepath.Base(src)[:len(task)] == task {
			opts.Data = filepath.Join(Fixtures(), "datasets", task, "data.yaml")
			break
		}
	}
	if opts.Data != "" {
		if _, err := os.Stat(opts.Data); err != nil {
			opts.Data = ""
		}
	}
	dst := filepath.Join(tb.TempDir(), filepath.Base(src)+".tar.zst")
	if _, err := convert.Capture(context.Background(), src, dst, opts); err != nil {
		tb.Fatalf("capture %s: %v", src, err)
	}
	return dst
}
