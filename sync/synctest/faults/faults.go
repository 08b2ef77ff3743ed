// Package faults injects failures into a test server: 429 with
// Retry-After, 500, 502, connection resets, garbage bodies and slowness,
// with a request log and a cancel-after-N hook that simulates a sync
// killed part-way.
//
// It uses the standard library only, so that a fake server can use it
// without linking what sync/synctest links (convert, and through it
// gocv). Each fake gives the error bodies of its own API ([Answers]).
package faults

import (
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is a kind of injected failure.
type Kind int

// The failures a Faults can inject.
const (
	// TooMany answers 429 with a Retry-After header (seconds) and, when
	// Answers.RetryAfterCustom is set, Comet's Retry-After-Custom.
	TooMany Kind = iota + 1
	// ServerError answers 500 with Answers.ServerError as its body.
	ServerError
	// Reset closes the connection without an answer (the client sees a
	// connection reset or EOF).
	Reset
	// Garbage answers 200 with a body that is not JSON.
	Garbage
	// Slow sleeps for Fault.Delay, then serves the request normally.
	Slow
	// BadGateway answers 502 with an HTML body, as a proxy would.
	BadGateway
)

// String names the kind as request logs show it ("429", "reset", ...).
func (k Kind) String() string {
	switch k {
	case TooMany:
		return "429"
	case ServerError:
		return "500"
	case Reset:
		return "reset"
	case Garbage:
		return "garbage"
	case Slow:
		return "slow"
	case BadGateway:
		return "502"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is one failure to inject.
type Fault struct {
	Kind Kind
	// Match restricts the fault to requests whose path contains it; empty
	// matches every request.
	Match string
	// RetryAfter is the Retry-After value sent with TooMany (default 1 s;
	// sent rounded up to whole seconds, at least "0").
	RetryAfter time.Duration
	// Delay is how long Slow waits.
	Delay time.Duration
}

type queued struct {
	f Fault
	n int
}

// Request is one logged request.
type Request struct {
	Method string
	Path   string
	// Injected names the fault injected into the request, if any.
	Injected string
	When     time.Time
}

// Answers are the bodies a server's API gives with the injected HTTP
// errors (JSON, as the real server shapes them).
type Answers struct {
	// TooMany is the body of a 429.
	TooMany string
	// ServerError is the body of a 500.
	ServerError string
	// RetryAfterCustom also sends a 429's delay in Comet's
	// Retry-After-Custom header.
	RetryAfterCustom bool
}

// Faults injects failures into an http.Handler and logs requests. The zero
// value is not usable; use New.
type Faults struct {
	answers  Answers
	mu       sync.Mutex
	queue    []*queued
	rate     float64
	mix      []Fault
	rng      *rand.Rand
	log      []Request
	served   int
	cancelAt int
	cancel   func()
	// serving counts the requests being served; idle is signalled (on
	// mu) when it drops to zero.
	serving int
	idle    *sync.Cond
}

// New returns a Faults that injects nothing until told to, and answers
// injected errors with a's bodies.
func New(a Answers) *Faults {
	f := &Faults{answers: a, rng: rand.New(rand.NewPCG(1, 2))}
	f.idle = sync.NewCond(&f.mu)
	return f
}

// Next makes the next n requests matching f.Match fail with f.
func (f *Faults) Next(n int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, &queued{f: fault, n: n})
}

// Random makes each request fail with probability rate, picking one of
// mix at random, from a fixed seed so a test is repeatable.
func (f *Faults) Random(seed uint64, rate float64, mix ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	f.rate = rate
	f.mix = mix
}

// CancelAfter calls cancel once n requests have been served (successfully
// or not), which lets a test kill a sync part-way at a chosen request.
func (f *Faults) CancelAfter(n int, cancel func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelAt = f.served + n
	f.cancel = cancel
}

// Clear removes every pending fault, the random mix and the cancel hook,
// then waits until no request is being served. A test kills a sync
// (CancelAfter), clears and syncs again: the killed sync's requests still
// in the server's hands land first, as they would long before anyone ran
// it again, instead of after the next sync's read-back (which then saw
// a batch missing, sent it, and found it twice).
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = nil
	f.rate = 0
	f.mix = nil
	f.cancel = nil
	for f.serving > 0 {
		f.idle.Wait()
	}
}

// Requests returns a copy of the request log.
func (f *Faults) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.log...)
}

// Count returns how many requests were received.
func (f *Faults) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

// Injected returns how many requests got a fault, by kind name.
func (f *Faults) Injected() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for _, r := range f.log {
		if r.Injected != "" {
			m[r.Injected]++
		}
	}
	return m
}

// WaitQuiet waits until the server has received no request for 300 ms
// (at most 10 s): the requests a cancelled client had sent may reach the
// handlers after it returned, and a test must not count them as the next
// operation's.
func (f *Faults) WaitQuiet() {
	for n, deadline := -1, time.Now().Add(10*time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		m := f.Count()
		if m == n {
			return
		}
		n = m
	}
}

// ResetLog forgets the logged requests.
func (f *Faults) ResetLog() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = nil
}

func (f *Faults) pick(path string) (Fault, bool) {
	for i, q := range f.queue {
		if q.f.Match != "" && !strings.Contains(path, q.f.Match) {
			continue
		}
		q.n--
		if q.n <= 0 {
			f.queue = append(f.queue[:i], f.queue[i+1:]...)
		}
		return q.f, true
	}
	if f.rate > 0 && len(f.mix) > 0 && f.rng.Float64() < f.rate {
		c := f.mix[f.rng.IntN(len(f.mix))]
		if c.Match == "" || strings.Contains(path, c.Match) {
			return c, true
		}
	}
	return Fault{}, false
}

// Wrap returns h with fault injection and request logging in front.
func (f *Faults) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fault, ok := f.pick(r.URL.Path)
		req := Request{Method: r.Method, Path: r.URL.Path, When: time.Now()}
		if ok {
			req.Injected = fault.Kind.String()
		}
		f.log = append(f.log, req)
		f.serving++
		f.mu.Unlock()
		defer f.served1()
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		switch fault.Kind {
		case TooMany:
			ra := fault.RetryAfter
			if ra == 0 {
				ra = time.Second
			}
			secs := strconv.Itoa(int((ra + time.Second - 1) / time.Second))
			if ra < time.Second {
				secs = "0"
			}
			w.Header().Set("Retry-After", secs)
			if f.answers.RetryAfterCustom {
				w.Header().Set("Retry-After-Custom", secs)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(f.answers.TooMany))
		case ServerError:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(f.answers.ServerError))
		case BadGateway:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		case Garbage:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("<html>this is not json\x00\x01"))
		case Reset:
			reset(w)
		case Slow:
			select {
			case <-time.After(fault.Delay):
			case <-r.Context().Done():
				return
			}
			h.ServeHTTP(w, r)
		}
	})
}

func (f *Faults) served1() {
	f.mu.Lock()
	f.served++
	if f.serving--; f.serving == 0 {
		f.idle.Broadcast()
	}
	var cancel func()
	if f.cancel != nil && f.served >= f.cancelAt {
		cancel, f.cancel = f.cancel, nil
	}
	f.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// reset closes the client connection abruptly (RST when possible).
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
