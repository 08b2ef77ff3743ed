package synctest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestUnreachableURL: every mode fails a request, and the blackhole and
// the hung server only when the client gives up (not at once).
func TestUnreachableURL(t *testing.T) {
	for _, how := range UnreachableModes {
		t.Run(string(how), func(t *testing.T) {
			u := UnreachableURL(t, how)
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("%s answered %s", u, resp.Status)
			}
			slow := time.Since(start) > time.Second
			if want := how == Blackhole || how == Hung; slow != want {
				t.Errorf("%s: failed after %v (%v): want it to hang: %v", u, time.Since(start), err, want)
			}
		})
	}
}

// TestUnreachableURL_BlackholeDropsConnects: the blackhole drops the
// connection itself (a dial times out), as a firewall does; a client
// that connected would wait for an answer instead (the hung server),
// and a preflight would take its answer timeout, not its dial timeout.
func TestUnreachableURL_BlackholeDropsConnects(t *testing.T) {
	for range 3 {
		u := UnreachableURL(t, Blackhole)
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "http://"), 500*time.Millisecond)
		if err == nil {
			c.Close()
			t.Fatalf("%s took a connection", u)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("%s: %v, want a dial timeout", u, err)
		}
	}
}
