package faults

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestClear_WaitsForRequestsBeingServed: Clear returns only once the
// requests the server is still handling are done, so that a killed sync's
// last batch lands before the sync run after it reads back (the Comet
// kill test once found a point twice: the killed sync's batch landed after
// the next sync had found it missing and sent it).
func TestClear_WaitsForRequestsBeingServed(t *testing.T) {
	f := New(Answers{})
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})))
	defer srv.Close()
	go func() {
		if resp, err := http.Get(srv.URL); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	cleared := make(chan struct{})
	go func() { f.Clear(); close(cleared) }()
	select {
	case <-cleared:
		close(release)
		t.Fatal("Clear returned while a request was being served")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-cleared:
	case <-time.After(10 * time.Second):
		t.Fatal("Clear did not return once the request was served")
	}
	f.Clear() // idle: returns at once
}
