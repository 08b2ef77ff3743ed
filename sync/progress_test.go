package sync_test

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/creack/pty"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

func TestProgress_Line(t *testing.T) {
	var out bytes.Buffer
	p := ysync.NewProgress(&out, ysync.ProgressOptions{Verb: "sync", Noun: "archives", Total: 3, Interval: time.Hour})
	a, b, c := p.Task("a"), p.Task("b"), p.Task("c")
	a.Stage("metrics", 100)
	a.Add(40)
	b.Stage("open", 0)
	c.Done(false)
	time.Sleep(20 * time.Millisecond)
	want := regexp.MustCompile(`^sync: 1/3 archives, 1 failed, [\d.]+/(s|min), [\dhms.]+ left; at work: a metrics 40/100 [\d.]+/(s|min) [\dhms.]+ left, b open [\dhms.]+$`)
	if got := p.Line(); !want.MatchString(got) {
		t.Errorf("Line() = %q, want %s", got, want)
	}
	p.Wait()
	if out.Len() != 0 {
		t.Errorf("printed before its interval: %q", out.String())
	}
}

func TestProgress_PlainLineEveryInterval(t *testing.T) {
	var out lockedBuffer
	p := ysync.NewProgress(&out, ysync.ProgressOptions{Verb: "export", Noun: "archives", Total: 1, Interval: 20 * time.Millisecond})
	p.Task("a").Stage("write", 0)
	time.Sleep(150 * time.Millisecond)
	p.Wait()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "export: 0/1 archives, ") {
		t.Errorf("%d lines in 150ms at one every 20ms: %q", len(lines), out.String())
	}
	if w := p.Writer(&out); w != io.Writer(&out) {
		t.Error("without a terminal, lines are not written straight to their writer")
	}
}

// TestProgress_BarsOnTerminal: on a terminal (and only on the terminal's
// *os.File itself), bars are drawn while tasks advance from several
// goroutines, and lines written through Writer print above them.
func TestProgress_BarsOnTerminal(t *testing.T) {
	tty, transcript := synctest.Terminal(t)
	if ysync.IsTerminal(struct{ io.Writer }{tty}) || !ysync.IsTerminal(tty) {
		t.Fatal("IsTerminal does not tell the terminal's *os.File from a wrapper")
	}
	p := ysync.NewProgress(tty, ysync.ProgressOptions{Verb: "sync", Noun: "archives", Total: 2})
	var wg gosync.WaitGroup
	for _, name := range []string{"first", "second"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := p.Task(name)
			task.Stage("events", 50)
			for range 50 {
				task.Add(1)
				time.Sleep(10 * time.Millisecond)
			}
			io.WriteString(p.Writer(tty), name+": synced\n")
			task.Done(true)
		}()
	}
	wg.Wait()
	p.Wait()
	out := transcript()
	for _, want := range []string{"A\x1b[J", "first events", "second events", "sync 2/2 archives", "first: synced\r\n", "second: synced\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal lacks %q: %q", want, out)
		}
	}
}

// TestProgress_ResultLineAfterLastFrame: a task's bar is drawn for the
// last time before the line reporting its result, not below it: the
// terminal's transcript (script(1), scrollback) never shows a finished
// task's bar after its result.
func TestProgress_ResultLineAfterLastFrame(t *testing.T) {
	tty, transcript := synctest.Terminal(t)
	// Two items: the batch bar keeps running while the first is done.
	p := ysync.NewProgress(tty, ysync.ProgressOptions{Verb: "sync", Noun: "archives", Total: 2})
	first := p.Task("first")
	first.Stage("write", 23)
	time.Sleep(400 * time.Millisecond) // a few frames
	first.Done(true)
	io.WriteString(p.Writer(tty), "first: written\n")
	second := p.Task("second")
	second.Stage("write", 0)
	second.Done(true)
	io.WriteString(p.Writer(tty), "second: written\n")
	p.Wait()
	out := transcript()
	for _, name := range []string{"first", "second"} {
		result := strings.Index(out, name+": written")
		if result < 0 {
			t.Fatalf("no result line for %s: %q", name, out)
		}
		if frame := strings.LastIndex(out, name+" write "); frame > result {
			t.Errorf("the bar of %s is drawn after its result line: %q", name, out)
		}
	}
}

// TestProgress_LastLinePrinted: a line written through Writer after the
// bars' last frame, just before Wait, is printed (mpb keeps such a line
// until its next frame, and shut down without one).
func TestProgress_LastLinePrinted(t *testing.T) {
	for i := range 5 {
		tty, transcript := synctest.Terminal(t)
		p := ysync.NewProgress(tty, ysync.ProgressOptions{Verb: "sync", Noun: "archives", Total: 2})
		p.Task("first").Done(true)
		p.Task("second").Done(true)
		time.Sleep(20 * time.Millisecond) // the batch bar's last frame is drawn
		io.WriteString(p.Writer(tty), "second: synced\n")
		p.Wait()
		if out := transcript(); !strings.Contains(out, "second: synced\r\n") {
			t.Fatalf("round %d: the line written last is lost: %q", i, out)
		}
	}
}

// TestProgress_TerminalGone: when the terminal goes away mid-batch (the
// ssh session drops: writes fail), the bars stop, and tasks, lines and
// Wait go on without hanging or panicking.
func TestProgress_TerminalGone(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer tty.Close()
	p := ysync.NewProgress(tty, ysync.ProgressOptions{Verb: "sync", Noun: "archives", Total: 3})
	first := p.Task("first")
	first.Stage("events", 10)
	ptmx.Close()                       // writes to tty now fail
	time.Sleep(400 * time.Millisecond) // a few frames, which fail
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		first.Add(5)
		first.Done(true)
		second := p.Task("second")
		second.Stage("events", 10)
		second.Done(false)
		p.Task("third").Done(true)
		io.WriteString(p.Writer(tty), "third: synced\n")
		p.Wait()
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("the progress hangs once its terminal is gone")
	}
}

func TestProgress_Nil(t *testing.T) {
	var p *ysync.Progress
	task := p.Task("a")
	task.Stage("x", 1)
	task.Add(1)
	task.Done(true)
	p.Wait()
	var b bytes.Buffer
	if p.Writer(&b) != io.Writer(&b) {
		t.Error("a nil Progress changes the writer")
	}
}

// lockedBuffer is a bytes.Buffer safe for the ticker's goroutine.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
