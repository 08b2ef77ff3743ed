package comet_test

import (
	"fmt"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest/conformance"
)

// TestConformance runs the destination suite against the fake Comet
// server.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T, badKey bool) conformance.Fake {
			srv := comettest.New()
			t.Cleanup(srv.Close)
			key := srv.APIKey
			if badKey {
				key = conformance.Secret
			}
			d, err := comet.New(comet.Config{APIKey: key, URL: srv.URLOverride()}, comet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return conformance.Fake{Dest: d, Faults: srv.Faults, Runs: func() int { return len(srv.Experiments()) },
				Snapshot: func() []string { return cometSnapshot(srv) }}
		},
		At: func(url string) (ysync.Destination, error) {
			return comet.New(comet.Config{APIKey: conformance.Secret, URL: url + "/clientlib/"}, comet.Options{})
		},
	})
}

// cometSnapshot describes the fake's experiments: others, parameters,
// metric points and console lines (as multisets), tags, assets, times and
// status.
func cometSnapshot(srv *comettest.Server) []string {
	var out []string
	for _, e := range srv.Experiments() {
		p := "exp " + e.Workspace + "/" + e.Project + "/" + e.Name
		end := "open"
		if e.EndMillis != nil {
			end = fmt.Sprint(*e.EndMillis)
		}
		out = append(out, fmt.Sprintf("%s alive=%v crashed=%v end=%s tags=%v", p, e.Alive, e.HasCrashed, end, e.Tags))
		for k, v := range e.Others {
			out = append(out, fmt.Sprintf("%s other %s=%s", p, k, v))
		}
		for k, v := range e.Params {
			out = append(out, fmt.Sprintf("%s param %s=%v", p, k, v.Value))
		}
		for _, m := range e.Metrics {
			out = append(out, fmt.Sprintf("%s metric %s step=%v epoch=%v %v", p, m.Name, opt(m.Step), opt(m.Epoch), m.Value))
		}
		for _, l := range e.Output {
			out = append(out, fmt.Sprintf("%s output stderr=%v %q", p, l.Stderr, l.Output))
		}
		for _, a := range e.Assets {
			out = append(out, fmt.Sprintf("%s asset %s %s step=%v %d %s", p, a.Type, a.FileName, opt(a.Step), a.Size, a.SHA256))
		}
	}
	return out
}

func opt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
