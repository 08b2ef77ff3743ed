package sync_test

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
)

// fakes are both test servers and a replayer for each, retrying fast and
// unthrottled; the servers close when the test ends.
type fakes struct {
	cml *clearmltest.Server
	cmt *comettest.Server
	cr  *clearml.Destination
	mr  *comet.Destination
}

func newFakes(t testing.TB) fakes {
	t.Helper()
	f := fakes{cml: clearmltest.New(), cmt: comettest.New()}
	t.Cleanup(f.cml.Close)
	t.Cleanup(f.cmt.Close)
	quick := ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond, Limiter: rate.NewLimiter(rate.Inf, 0)}
	f.cr = clearml.New(clearml.Config{APIHost: f.cml.API.URL, WebHost: f.cml.WebURL(), FilesHost: f.cml.Files.URL,
		AccessKey: f.cml.AccessKey, SecretKey: f.cml.SecretKey}, ysync.Options{})
	f.cr.SetClientOptions(quick)
	var err error
	if f.mr, err = comet.New(comet.Config{APIKey: f.cmt.APIKey, URL: f.cmt.URLOverride()}, comet.Options{}); err != nil {
		t.Fatal(err)
	}
	f.mr.SetClientOptions(quick)
	return f
}
