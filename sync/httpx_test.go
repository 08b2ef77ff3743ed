package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// TestGate_PausesEveryWorker: when one worker gets 429 with Retry-After,
// the other workers sharing the destination's gate wait too, instead of
// hitting the server during the pause.
func TestGate_PausesEveryWorker(t *testing.T) {
	var first atomic.Bool
	var pausedAt atomic.Int64
	var early atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			pausedAt.Store(time.Now().UnixNano())
			w.Header().Set("Retry-After", "0.4")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if time.Since(time.Unix(0, pausedAt.Load())) < 350*time.Millisecond {
			early.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	gate := &ysync.Gate{}
	opts := ysync.ClientOptions{Gate: gate, WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond}
	get := func(c *ysync.Client) {
		resp, err := c.Do(context.Background(), ysync.Request{Method: http.MethodGet, URL: srv.URL})
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
	}
	get(ysync.NewClient(opts)) // gets the 429, waits, succeeds
	var wg sync.WaitGroup
	first.Store(false)
	wg.Add(1)
	go func() { defer wg.Done(); get(ysync.NewClient(opts)) }() // the 429 again
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 8; i++ { // other workers during the pause
		wg.Add(1)
		go func() { defer wg.Done(); get(ysync.NewClient(opts)) }()
	}
	wg.Wait()
	if early.Load() != 0 || gate.Pauses() != 2 {
		t.Errorf("%d requests during the pause, %d pauses", early.Load(), gate.Pauses())
	}
}
