package synctest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// Unreachable is a way for a tracker to be out of reach.
type Unreachable string

// The ways a host can be out of reach, as a sync meets them.
const (
	// Closed is a port on 127.0.0.1 that nothing listens on: connections
	// are refused at once.
	Closed Unreachable = "closed port"
	// Blackhole is an address that drops connection attempts (as a
	// firewall or a dead route does, e.g. 10.255.255.1): connecting hangs
	// until the dial timeout. It is a listener on 127.0.0.1 whose accept
	// queue is full, so the kernel drops further SYNs.
	Blackhole Unreachable = "blackholed address"
	// Hung is a server that accepts connections and never answers.
	Hung Unreachable = "server that never answers"
	// NoDNS is a host name that does not resolve (.invalid, RFC 6761).
	NoDNS Unreachable = "name that does not resolve"
)

// UnreachableModes are all of them.
var UnreachableModes = []Unreachable{Closed, Blackhole, Hung, NoDNS}

// UnreachableURL returns an http:// URL that is unreachable in the given
// way; what it needs is released when the test ends.
func UnreachableURL(tb testing.TB, how Unreachable) string {
	tb.Helper()
	switch how {
	case Closed:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	case Blackhole:
		return "http://" + blackhole(tb)
	case Hung:
		done := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-done:
			case <-r.Context().Done():
			}
		}))
		tb.Cleanup(func() { close(done); srv.Close() })
		return srv.URL
	case NoDNS:
		return "http://tracker.yoloarchive-test.invalid:8008"
	}
	tb.Fatalf("unknown way to be unreachable: %q", how)
	return ""
}

// blackhole listens on 127.0.0.1 with an accept queue of one and fills
// it: the kernel drops later SYNs, so a connection attempt hangs.
func blackhole(tb testing.TB) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		tb.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		tb.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// Fill the queue; the dials that hang are left to time out.
	for i := 0; i < 4; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break // full
		}
		tb.Cleanup(func() { c.Close() })
	}
	return addr
}
