package contours

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// Config configures a [Helper].
type Config struct {
	// Path is the helper executable; empty means [Find].
	Path string
	// Timeout is how long the helper may go without answering while masks
	// wait (and before it greets); 0 means [DefaultTimeout].
	Timeout time.Duration

	configErr error // a bad environment setting, reported on first use
}

// Helper is the client of a contours helper process. It starts the
// helper on first use and keeps it running; it is safe for concurrent
// use, and the requests of all goroutines share the one process.
type Helper struct {
	cfg  Config
	mu   sync.Mutex
	path string // the executable, once found
	proc *proc  // the running helper, if any
}

// New returns a Helper; nothing is started until it is needed.
func New(c Config) *Helper {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	return &Helper{cfg: c}
}

// Start finds the helper and starts it unless it is running, without
// waiting for it to be ready, so that its start overlaps other work. It
// returns an error wrapping [ErrNotFound] when there is no helper, or why
// it could not be started.
func (h *Helper) Start() error {
	_, err := h.current()
	return err
}

// Polygons returns the polygons of r as vision.Polygons computes them,
// from the helper. An invalid r is rejected here (errors wrap
// [mask.ErrBadRLE]); an error of the helper (not found, died, hung) names
// the helper and fails this call and the others in flight, and the next
// call starts a new helper.
func (h *Helper) Polygons(ctx context.Context, r mask.RLE) ([][]int32, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	p, err := h.current()
	if err != nil {
		return nil, err
	}
	return p.call(ctx, r)
}

// closeGrace is how long Close lets the helper finish before killing it.
const closeGrace = 2 * time.Second

// Close stops the helper, if one runs: it ends the helper's input and
// kills it if it has not exited within 2 s (or the timeout, if shorter).
// A later call starts a new one.
func (h *Helper) Close() error {
	h.mu.Lock()
	p := h.proc
	h.proc = nil
	h.mu.Unlock()
	if p == nil {
		return nil
	}
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.stdin.Close()
	select {
	case <-p.dead:
	case <-time.After(min(p.timeout, closeGrace)):
		p.fail(fmt.Errorf("contours: helper %s did not exit when closed: killed", p.path))
	}
	return nil
}

// current returns the running helper, starting one if there is none or
// the last one died.
func (h *Helper) current() (*proc, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cfg.configErr != nil {
		return nil, h.cfg.configErr
	}
	if h.proc != nil && !h.proc.ended() {
		return h.proc, nil
	}
	if h.path == "" {
		h.path = h.cfg.Path
		if h.path == "" {
			p, err := Find()
			if err != nil {
				return nil, err
			}
			h.path = p
		}
	}
	p, err := start(h.path, h.cfg.Timeout)
	if err != nil {
		return nil, err
	}
	h.proc = p
	return p, nil
}

// proc is one running helper process.
type proc struct {
	path    string
	timeout time.Duration
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *stderr

	wmu sync.Mutex // guards w
	w   *bufio.Writer

	mu      sync.Mutex
	pending map[uint64]chan reply
	nextID  uint64
	greeted bool
	closing bool
	last    time.Time // start, hello, or the last answer while requests wait
	err     error     // why it ended; set once, before dead is closed
	dead    chan struct{}
}

type reply struct {
	polys [][]int32
	err   error
}

// start starts the helper at path and the goroutines that read its
// answers and watch that it makes progress.
func start(path string, timeout time.Duration) (*proc, error) {
	p := &proc{path: path, timeout: timeout, pending: map[uint64]chan reply{}, dead: make(chan struct{}), stderr: &stderr{}}
	p.cmd = exec.Command(path)
	p.cmd.Stderr = p.stderr
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("contours: start helper %s: %w", path, err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("contours: start helper %s: %w", path, err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("contours: start helper %s: %w", path, err)
	}
	p.stdin, p.w, p.last = stdin, bufio.NewWriterSize(stdin, 64<<10), time.Now()
	go p.read(stdout)
	go p.watch()
	return p, nil
}

// call sends one request and waits for its answer.
func (p *proc) call(ctx context.Context, r mask.RLE) ([][]int32, error) {
	ch := make(chan reply, 1)
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return nil, p.err
	}
	id := p.nextID
	p.nextID++
	if p.greeted && len(p.pending) == 0 {
		p.last = time.Now() // the clock runs only while requests wait
	}
	p.pending[id] = ch
	p.mu.Unlock()

	req := appendRequest(make([]byte, 0, 20+4*len(r.Counts)), id, r)
	p.wmu.Lock()
	err := writeFrame(p.w, req)
	if err == nil {
		err = p.w.Flush()
	}
	p.wmu.Unlock()
	if err != nil {
		// The helper is gone (a broken pipe): how it ended explains more.
		select {
		case <-p.dead:
		case <-time.After(p.timeout):
			p.fail(fmt.Errorf("contours: helper %s: send mask: %w", p.path, err))
		}
	}
	select {
	case rep := <-ch:
		return rep.polys, rep.err
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
		return nil, ctx.Err()
	}
}

// read reads the hello, then dispatches answers, until the helper's
// stdout ends; it then reaps the process and fails what still waits.
func (p *proc) read(stdout io.Reader) {
	err := p.readAnswers(bufio.NewReaderSize(stdout, 64<<10))
	if err != nil && !errors.Is(err, io.EOF) {
		p.fail(fmt.Errorf("contours: helper %s: %w", p.path, err))
	}
	p.cmd.Process.Kill() // a helper that closed its stdout is of no more use
	werr := p.cmd.Wait()
	p.mu.Lock()
	closing, greeted := p.closing, p.greeted
	p.mu.Unlock()
	if closing {
		p.fail(fmt.Errorf("contours: helper %s was closed", p.path))
		return
	}
	how := "exited"
	if werr != nil {
		how = "died (" + werr.Error() + ")"
	}
	if !greeted {
		how += " before it was ready"
	}
	msg := fmt.Sprintf("contours: helper %s %s", p.path, how)
	if last := p.stderr.summary(); last != "" {
		msg += ": " + last
		if strings.Contains(last, "error while loading shared libraries") {
			msg += ": install the OpenCV runtime it was built against (Debian: apt-get install libopencv-imgproc406), or capture with --no-polygons"
		}
	}
	p.fail(errors.New(msg))
}

// readAnswers reads the hello and then every answer.
func (p *proc) readAnswers(br *bufio.Reader) error {
	frame, err := readFrame(br, nil)
	if err != nil {
		return err
	}
	if _, err := parseHello(frame); err != nil {
		return err
	}
	p.mu.Lock()
	p.greeted, p.last = true, time.Now()
	p.mu.Unlock()
	var buf []byte
	for {
		frame, err := readFrame(br, buf)
		if err != nil {
			return err
		}
		buf = frame
		id, polys, remote, err := parseResponse(frame)
		if err != nil {
			return err
		}
		p.mu.Lock()
		ch := p.pending[id]
		delete(p.pending, id)
		p.last = time.Now()
		p.mu.Unlock()
		if ch == nil {
			continue // its caller gave up
		}
		rep := reply{polys: polys}
		if remote != nil {
			rep.err = fmt.Errorf("contours: helper %s: %s", p.path, cmp.Or(*remote, "an error without a message"))
		}
		ch <- rep
	}
}

// watch kills a helper that greets or answers nothing for the timeout
// while it is waited for.
func (p *proc) watch() {
	tick := time.NewTicker(max(p.timeout/20, 5*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.dead:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		waiting := !p.greeted || len(p.pending) > 0
		stalled := waiting && !p.closing && time.Since(p.last) > p.timeout
		greeted := p.greeted
		p.mu.Unlock()
		if stalled {
			what := "answered nothing"
			if !greeted {
				what = "did not get ready"
			}
			p.fail(fmt.Errorf("contours: helper %s %s in %v: killed it (a mask that takes longer needs $%s)", p.path, what, p.timeout, EnvTimeout))
			return
		}
	}
}

// fail ends the helper with err (the first reason wins) and fails every
// request that waits.
func (p *proc) fail(err error) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return
	}
	p.err = err
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	close(p.dead)
	p.cmd.Process.Kill()
	for _, ch := range pending {
		ch <- reply{err: err}
	}
}

// ended reports whether the helper has ended.
func (p *proc) ended() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

// stderr keeps the first and the last 4 KiB the helper writes to its
// stderr, for the error that says how it ended.
type stderr struct {
	mu         sync.Mutex
	head, tail []byte
}

func (s *stderr) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := min(len(b), 4096-len(s.head)); n > 0 {
		s.head = append(s.head, b[:n]...)
	}
	s.tail = append(s.tail, b...)
	if len(s.tail) > 4096 {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-4096:]...)
	}
	return len(b), nil
}

// crashLine starts the lines that say why a program crashed: Go's panics
// and fatal signals (a fault in OpenCV's C++ code is one), C++'s uncaught
// exceptions, the dynamic loader's errors.
var crashLine = []string{"panic: ", "fatal error: ", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "terminate called", "error while loading shared libraries"}

// summary returns the line of the helper's stderr that best says why it
// ended: the first that starts like a crash report, else the last one.
func (s *stderr) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range strings.Split(string(s.head), "\n") {
		for _, c := range crashLine {
			if strings.Contains(line, c) {
				return strings.Join(strings.Fields(line), " ")
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(string(s.tail)), "\n")
	return strings.Join(strings.Fields(lines[len(lines)-1]), " ")
}
