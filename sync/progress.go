package sync

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// DefaultInterval is how often a Progress prints its plain line when its
// output is not a terminal.
const DefaultInterval = 10 * time.Second

// ProgressOptions describe the batch a Progress reports on.
type ProgressOptions struct {
	// Verb and Noun name the work and its items: "sync", "archives".
	Verb, Noun string
	// Total is the number of items in the batch.
	Total int
	// Interval is how often the plain line is printed when the output is
	// not a terminal (default DefaultInterval).
	Interval time.Duration
}

// Progress reports how a batch goes. When its output is a terminal it
// draws bars (mpb): one per item at work (its stage, units done of the
// stage's total, rate and time left) and, for more than one item, one for
// the batch (items done of total, failures, rate, time left). Otherwise it
// prints one plain line every Interval with the same figures. Lines
// printed while bars are drawn must go through [Progress.Writer].
//
// A nil *Progress reports nothing.
type Progress struct {
	out   io.Writer
	opts  ProgressOptions
	start time.Time
	bars  *mpb.Progress // nil unless out is a terminal
	batch *mpb.Bar
	// redraw asks the bars for a frame: every refreshRate (redraw's
	// goroutine) and when a task is done, so that its bar is gone
	// before its result is printed.
	redraw chan any
	gone   chan any // closed when the bars stop (Wait, or the terminal failed)

	done, failed atomic.Int64
	mu           gosync.Mutex
	running      []*Task // in start order, for the plain line
	stop         chan struct{}
	ticker       gosync.WaitGroup
}

// IsTerminal reports whether w is a terminal: an *os.File on a terminal
// device. A writer wrapping a terminal is not one.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// NewProgress starts reporting on out. out must be the *os.File itself
// (os.Stderr), not a wrapper, for the bars to be drawn on a terminal.
func NewProgress(out io.Writer, opts ProgressOptions) *Progress {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	p := &Progress{out: out, opts: opts, start: time.Now(), stop: make(chan struct{})}
	p.ticker.Add(1)
	if !IsTerminal(out) {
		go p.tick()
		return p
	}
	p.redraw, p.gone = make(chan any), make(chan any)
	go p.refresh()
	p.bars = mpb.New(mpb.WithConsoleWriter(sizedTerminal{cupwriter.New(out, false)}),
		mpb.WithManualRefresh(p.redraw), mpb.WithShutdownNotifier(p.gone))
	if opts.Total > 1 {
		p.batch = p.bars.New(int64(opts.Total), mpb.BarStyle(),
			mpb.BarPriority(math.MaxInt32), // below the items' bars
			mpb.BarWidth(20),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return opts.Verb + " " + p.batchLabel() })),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return p.batchRate() })),
		)
	}
	return p
}

// sizedTerminal is mpb's console writer, with a size for a terminal that
// reports none (0×0, as under script(1) without a controlling terminal),
// where mpb would draw nothing.
type sizedTerminal struct{ *cupwriter.Writer }

// GetTermSize returns the terminal's size, or 80×24 when it has none.
func (t sizedTerminal) GetTermSize() (width, height int, err error) {
	width, height, err = t.Writer.GetTermSize()
	if err != nil || width <= 0 || height <= 0 {
		return 80, 24, nil
	}
	return width, height, nil
}

// Writer returns where to print a line while p runs: through the bars
// (above them) when w is a terminal and bars are drawn, else w itself.
func (p *Progress) Writer(w io.Writer) io.Writer {
	if p == nil || p.bars == nil || !IsTerminal(w) {
		return w
	}
	return aboveBars{p.bars, w}
}

// aboveBars prints above the bars until they are gone, then to w.
type aboveBars struct {
	bars *mpb.Progress
	w    io.Writer
}

func (a aboveBars) Write(b []byte) (int, error) {
	if n, err := a.bars.Write(b); err == nil {
		return n, nil
	}
	return a.w.Write(b)
}

// refreshRate is how often the bars are drawn.
const refreshRate = 150 * time.Millisecond

// Wait stops the reports and waits until the bars are drawn for the last
// time.
func (p *Progress) Wait() {
	if p == nil {
		return
	}
	if p.bars != nil {
		if p.batch != nil && !p.batch.Completed() {
			p.batch.Abort(false) // interrupted: keep the bar as it stands
		}
		// A frame now prints the lines written since the last one:
		// mpb shuts down without drawing them.
		p.frame(time.Now())
		p.bars.Wait()
	}
	close(p.stop)
	p.ticker.Wait()
}

// refresh asks the bars for a frame every refreshRate until Wait.
func (p *Progress) refresh() {
	defer p.ticker.Done()
	t := time.NewTicker(refreshRate)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.frame(now)
		}
	}
}

// frame asks the bars for a frame now, unless they are gone.
func (p *Progress) frame(now time.Time) {
	select {
	case p.redraw <- now:
	case <-p.stop:
	case <-p.gone:
	}
}

// tick prints the plain line every Interval until Wait.
func (p *Progress) tick() {
	defer p.ticker.Done()
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			fmt.Fprintln(p.out, p.Line())
		}
	}
}

// Line is the plain progress line: "sync: 12/31 archives, 1 failed,
// 2.5/min, 4m48s left; at work: train7 metrics 1200/5000 35/s 34s left".
func (p *Progress) Line() string {
	var b strings.Builder
	b.WriteString(p.opts.Verb + ": " + p.batchLabel())
	if r := p.batchRate(); r != "" {
		b.WriteString(", " + r)
	}
	p.mu.Lock()
	running := append([]*Task(nil), p.running...)
	p.mu.Unlock()
	for i, t := range running {
		if i == 0 {
			b.WriteString("; at work: ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(t.name)
		if s := t.figures(); s != "" {
			b.WriteString(" " + s)
		}
	}
	return b.String()
}

// batchLabel is "12/31 archives" and the failures.
func (p *Progress) batchLabel() string {
	s := fmt.Sprintf("%d/%d %s", p.done.Load(), p.opts.Total, p.opts.Noun)
	if f := p.failed.Load(); f > 0 {
		s += fmt.Sprintf(", %d failed", f)
	}
	return s
}

// batchRate is the items' rate and the time left at that rate.
func (p *Progress) batchRate() string {
	done := p.done.Load()
	elapsed := time.Since(p.start)
	if done == 0 || int(done) >= p.opts.Total {
		return fmt.Sprintf("%s elapsed", roundDuration(elapsed))
	}
	perSecond := float64(done) / elapsed.Seconds()
	left := time.Duration(float64(int64(p.opts.Total)-done) / perSecond * float64(time.Second))
	return fmt.Sprintf("%s, %s left", perTime(perSecond), roundDuration(left))
}

// Task returns the progress of one item, shown until its Done.
func (p *Progress) Task(name string) *Task {
	if p == nil {
		return nil
	}
	// A name comes from a run (a folder or archive name): its control
	// characters are drawn as '?', never sent to the terminal.
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return '?'
		}
		return r
	}, name)
	t := &Task{p: p, name: name}
	t.stage.Store(&stage{start: time.Now()})
	p.mu.Lock()
	p.running = append(p.running, t)
	p.mu.Unlock()
	if p.bars != nil {
		// total 0: the bar never completes by itself; Done removes it.
		// An error: the bars stopped (the terminal failed); the task
		// goes on without one.
		t.bar, _ = p.bars.Add(0, mpb.BarStyle().Build(), mpb.BarWidth(20),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return t.label() }, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return t.figures() })),
			mpb.BarRemoveOnComplete(),
		)
	}
	return t
}

// Task is the progress of one item (an archive, a run). A nil *Task does
// nothing. Its methods may be called from several goroutines.
type Task struct {
	p     *Progress
	name  string
	bar   *mpb.Bar
	stage atomic.Pointer[stage]
	cur   atomic.Int64
}

// stage is what a Task is doing: read by the bars' goroutines, so it is
// replaced whole, never changed.
type stage struct {
	name  string
	total int64
	start time.Time
}

// Stage starts a stage of total work units (requests, events, files; 0
// when they are not counted).
func (t *Task) Stage(name string, total int64) {
	if t == nil {
		return
	}
	t.stage.Store(&stage{name: name, total: total, start: time.Now()})
	t.cur.Store(0)
	if t.bar != nil {
		t.bar.SetTotal(total, false)
		t.bar.SetCurrent(0)
	}
}

// Add records n units of the stage done.
func (t *Task) Add(n int64) {
	if t == nil {
		return
	}
	t.cur.Add(n)
	if t.bar != nil {
		t.bar.IncrInt64(n)
	}
}

// Done ends the task, which failed unless ok: it leaves the report and
// counts in the batch's figures (the caller reports the outcome). On a
// terminal it returns once the task's bar is drawn for the last time, so
// that the result the caller prints next comes below it.
func (t *Task) Done(ok bool) {
	if t == nil {
		return
	}
	p := t.p
	p.mu.Lock()
	for i, r := range p.running {
		if r == t {
			p.running = append(p.running[:i], p.running[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	if !ok {
		p.failed.Add(1)
	}
	p.done.Add(1)
	if t.bar != nil {
		// The bar's last frame comes now, before the caller prints
		// the task's result above the bars.
		t.bar.Abort(true)
		p.frame(time.Now())
		t.bar.Wait()
	}
	if p.batch != nil {
		p.batch.Increment()
	}
}

// label is the task's name and stage.
func (t *Task) label() string {
	if s := t.stage.Load(); s.name != "" {
		return t.name + " " + s.name
	}
	return t.name
}

// figures are the stage's units done of total, rate and time left, or the
// time it has taken when its units are not counted.
func (t *Task) figures() string {
	s := t.stage.Load()
	elapsed := time.Since(s.start)
	bars := t.p.bars != nil // the bar's label names the stage
	if s.total <= 0 {
		if bars {
			return roundDuration(elapsed).String()
		}
		// The plain line names the stage here (the bar's label does).
		return strings.TrimSpace(s.name + " " + roundDuration(elapsed).String())
	}
	cur := t.cur.Load()
	out := fmt.Sprintf("%d/%d", cur, s.total)
	if !bars {
		out = s.name + " " + out
	}
	if cur == 0 || elapsed <= 0 {
		return out
	}
	perSecond := float64(cur) / elapsed.Seconds()
	left := time.Duration(float64(max(s.total-cur, 0)) / perSecond * float64(time.Second))
	return fmt.Sprintf("%s %s %s left", out, perTime(perSecond), roundDuration(left))
}

// perTime formats a rate per second, per minute when below one a second.
func perTime(perSecond float64) string {
	if perSecond < 1 {
		return fmt.Sprintf("%.1f/min", perSecond*60)
	}
	return fmt.Sprintf("%.0f/s", perSecond)
}

// roundDuration rounds d to the second (to 100 ms below 10 s).
func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
