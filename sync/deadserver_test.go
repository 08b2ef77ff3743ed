package sync_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// dying serves h until it has served alive requests, then dies: every
// later request gets a bare 500 (a proxy in front of a dead tracker) or
// a connection reset.
type dying struct {
	h     http.Handler
	alive int64
	reset bool
	n     atomic.Int64
	after atomic.Int64 // requests received once dead
}

func (d *dying) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.n.Add(1) <= d.alive {
		d.h.ServeHTTP(w, r)
		return
	}
	d.after.Add(1)
	d.die(w)
}

// die answers as a dead server.
func (d *dying) die(w http.ResponseWriter) {
	if !d.reset {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// TestDeadServer_AttemptsPerStep kills the server at every request of a
// sync (it answers 500 to everything from then on, or resets every
// connection) and counts the requests the sync still makes before it
// gives up: at most ysync.MaxAttempts, the bound the HTTP layer sets,
// whatever step the server died in. Against resets, net/http itself
// resends an idempotent request once when the pooled connection it used
// was reset: at most one more per idle connection (ysync.MaxIdleConns).
func TestDeadServer_AttemptsPerStep(t *testing.T) {
	archive := synctest.Capture(t, synctest.SynthRun(t, 3, 1, 1))
	quick := ysync.ClientOptions{WaitMin: time.Microsecond, WaitMax: time.Microsecond, Limiter: rate.NewLimiter(rate.Inf, 0)}
	type tracker struct {
		name string
		// start serves h in front of a new fake and returns the
		// destination pointed at it.
		start func(t *testing.T, wrap func(http.Handler) http.Handler) ysync.Destination
	}
	trackers := []tracker{
		{"clearml", func(t *testing.T, wrap func(http.Handler) http.Handler) ysync.Destination {
			s := clearmltest.New()
			t.Cleanup(s.Close)
			s.API.Config.Handler = wrap(s.API.Config.Handler)
			s.Files.Config.Handler = wrap(s.Files.Config.Handler)
			d := clearml.New(clearml.Config{APIHost: s.API.URL, WebHost: s.WebURL(), FilesHost: s.Files.URL,
				AccessKey: s.AccessKey, SecretKey: s.SecretKey}, ysync.Options{})
			d.SetClientOptions(quick)
			return d
		}},
		{"comet", func(t *testing.T, wrap func(http.Handler) http.Handler) ysync.Destination {
			s := comettest.New()
			t.Cleanup(s.Close)
			s.Server.Config.Handler = wrap(s.Server.Config.Handler)
			d, err := comet.New(comet.Config{APIKey: s.APIKey, URL: s.URLOverride()}, comet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			d.SetClientOptions(quick)
			return d
		}},
	}
	for _, tr := range trackers {
		for _, reset := range []bool{false, true} {
			name := tr.name + "/500"
			if reset {
				name = tr.name + "/reset"
			}
			t.Run(name, func(t *testing.T) {
				// A clean sync's request count gives the kill points.
				var clean atomic.Int64
				d := tr.start(t, func(h http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { clean.Add(1); h.ServeHTTP(w, r) })
				})
				if res := ysync.One(context.Background(), archive, d, ysync.BatchOptions{NoPreflight: true}); res.Status != ysync.StatusSynced {
					t.Fatalf("clean sync: %s %s", res.Status, res.Error)
				}
				worst, at := int64(0), int64(0)
				for kill := int64(0); kill < clean.Load(); kill++ {
					var dd *dying
					d := tr.start(t, func(h http.Handler) http.Handler {
						if dd == nil {
							dd = &dying{h: h, alive: kill, reset: reset}
							return dd
						}
						// The files server dies with the API server.
						return &sharedDeath{d: dd, h: h}
					})
					res := ysync.One(context.Background(), archive, d, ysync.BatchOptions{NoPreflight: true})
					if res.Status != ysync.StatusFailed {
						t.Fatalf("kill at %d: %s, want failed", kill, res.Status)
					}
					if n := dd.after.Load(); n > worst {
						worst, at = n, kill
					}
				}
				t.Logf("%s: at most %d attempts after the server died (killed at request %d of %d)", name, worst, at, clean.Load())
				bound := int64(ysync.MaxAttempts)
				if reset {
					bound += ysync.MaxIdleConns
				}
				if worst > bound {
					t.Errorf("%d attempts against a dead server (killed at request %d), want at most %d", worst, at, bound)
				}
			})
		}
	}
}

// sharedDeath serves h while d is alive and dies with it.
type sharedDeath struct {
	d *dying
	h http.Handler
}

func (s *sharedDeath) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.d.n.Add(1) <= s.d.alive {
		s.h.ServeHTTP(w, r)
		return
	}
	s.d.after.Add(1)
	s.d.die(w)
}
