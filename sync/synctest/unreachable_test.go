package synctest

import (
	"context"
	"net/http"
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
