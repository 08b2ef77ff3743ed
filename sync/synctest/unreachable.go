package synctest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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
// it: the kernel drops later SYNs, so a connection attempt hangs. The
// queue is filled until the kernel says it is full (TCP_INFO of the
// listener: its queue length above its backlog), not until a dial is
// slow: on a loaded machine a dial that the kernel took could outlast a
// short timeout, leaving room for the client under test, whose request
// then waited for an answer instead of a connection.
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
	for range 8 {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			tb.Fatalf("blackhole: read the listener's queue: %v", err)
		}
		// For a listener, Unacked is the accept queue's length and
		// Sacked its backlog; SYNs are dropped once it is above.
		if info.Unacked > info.Sacked {
			return addr
		}
		// There is room: the kernel completes this connection at once,
		// however long this process takes to see it.
		c, err := net.DialTimeout("tcp", addr, 30*time.Second)
		if err != nil {
			tb.Fatalf("blackhole: fill the accept queue: %v", err)
		}
		tb.Cleanup(func() { c.Close() })
	}
	tb.Fatalf("blackhole: the accept queue of %s is not full after 8 connections", addr)
	return ""
}
