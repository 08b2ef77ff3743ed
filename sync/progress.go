package sync

import (
	"fmt"
	"io"
	gosync "sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Progress shows the progress of every archive of a sync: one bar per
// archive on a terminal (mpb), plain log lines otherwise.
type Progress struct {
	out io.Writer
	p   *mpb.Progress
	mu  gosync.Mutex
}

// NewProgress returns a Progress writing to w, with bars when tty is set.
func NewProgress(w io.Writer, tty bool) *Progress {
	pr := &Progress{out: w}
	if tty {
		pr.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
	}
	return pr
}

// Wait waits for the bars to finish rendering.
func (p *Progress) Wait() {
	if p.p != nil {
		p.p.Wait()
	}
}

// Task returns the progress of one archive.
func (p *Progress) Task(name string) *Task {
	return &Task{p: p, name: name}
}

// Task is the progress of one archive's sync. A nil *Task does nothing.
type Task struct {
	p     *Progress
	name  string
	stage string
	bar   *mpb.Bar
	mu    gosync.Mutex
}

// Stage starts a stage of total work units (requests or bytes).
func (t *Task) Stage(stage string, total int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stage = stage
	if t.p.p == nil {
		// Plain log lines: only stages with work to count.
		if total > 0 {
			t.p.mu.Lock()
			fmt.Fprintf(t.p.out, "%s: %s: %d to do\n", t.name, stage, total)
			t.p.mu.Unlock()
		}
		return
	}
	if t.bar != nil {
		t.bar.SetTotal(t.bar.Current(), true)
	}
	t.bar = t.p.p.AddBar(max(total, 1),
		mpb.PrependDecorators(decor.Name(t.name+" "+stage, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.CountersNoUnit("%d/%d"), decor.Percentage(decor.WCSyncSpace)),
		mpb.BarRemoveOnComplete(),
	)
}

// Add records n units done.
func (t *Task) Add(n int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != nil {
		t.bar.IncrInt64(n)
	}
}

// Done ends the task: its bar is removed (the caller reports the
// outcome).
func (t *Task) Done(msg string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != nil {
		t.bar.Abort(true)
		t.bar = nil
	}
}
