package comet_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestOffline_ProgressCountsNothingItDoesNot: the zip's metric calls are
// generated as they are written, so the write stage shows its time, not
// a count of the few calls held (its bar stood at 0/5 until cleared).
func TestOffline_ProgressCountsNothingItDoesNot(t *testing.T) {
	run, err := ysync.Open(context.Background(), synctest.Capture(t, synctest.SynthRun(t, 30, 2, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	p := ysync.NewProgress(&bytes.Buffer{}, ysync.ProgressOptions{Verb: "sync", Noun: "archives", Total: 1})
	defer p.Wait()
	task := p.Task("run")
	defer task.Done(true)
	var res ysync.Result
	if err := comet.NewOffline(t.TempDir(), comet.Options{}).Write(context.Background(), run, nil, task, &res); err != nil {
		t.Fatal(err)
	}
	line := p.Line()
	i := strings.Index(line, " write ")
	if i < 0 || strings.Contains(line[i:], "/") {
		t.Errorf("progress %q, want the write stage's time and no count", line)
	}
}
