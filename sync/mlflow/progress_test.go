package mlflow_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestDir_ProgressReachesItsTotal: mlflow-dir's stage counts the params,
// points and artifacts it writes up to the total it announced (its bar
// stood at 0/N until it was cleared).
func TestDir_ProgressReachesItsTotal(t *testing.T) {
	run, err := ysync.Open(context.Background(), synctest.Capture(t, synctest.SynthRun(t, 30, 2, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	d := mlflow.NewDir(t.TempDir(), mlflow.Options{})
	p := ysync.NewProgress(&bytes.Buffer{}, ysync.ProgressOptions{Verb: "sync", Noun: "archives", Total: 1})
	defer p.Wait()
	task := p.Task("run")
	defer task.Done(true)
	var res ysync.Result
	if err := d.Write(context.Background(), run, &ysync.State{}, task, &res); err != nil {
		t.Fatal(err)
	}
	line := p.Line()
	var done, total int
	if i := strings.Index(line, " write "); i < 0 {
		t.Fatalf("progress %q names no write stage", line)
	} else if _, err := fmt.Sscanf(line[i:], " write %d/%d", &done, &total); err != nil {
		t.Fatalf("progress %q: %v", line, err)
	}
	if total < 30 || done != total {
		t.Errorf("progress %q: %d of %d written, want all of at least 30", line, done, total)
	}
}
