package clearml_test

import (
	"context"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestSync_DotDotProjectStaysInItsKeys: a project or name with "../"
// never makes a file-server key component that leaves the task's prefix
// or hides (issue 15: it reached the file server online, although the
// offline writer refused it). The fake file server refuses ".." as the
// real one's path checks do.
func TestSync_DotDotProjectStaysInItsKeys(t *testing.T) {
	for _, o := range []ysync.Options{
		{Project: "../../etc", Name: "../x"},
		{Project: "Team/../..", Name: ".hidden"},
	} {
		e := newEnv(t)
		e.r = e.destination(o)
		r := e.sync(t, context.Background(), synctest.Capture(t, "detect-clearml"), ysync.BatchOptions{})
		if r.Status != ysync.StatusSynced {
			t.Fatalf("%+v: %s %s", o, r.Status, r.Error)
		}
		paths := e.srv.FilePaths()
		if len(paths) == 0 {
			t.Fatalf("%+v: nothing uploaded", o)
		}
		for _, p := range paths {
			for _, c := range strings.Split(p, "/") {
				if c == "" || strings.HasPrefix(c, ".") {
					t.Errorf("%+v: key %q has the component %q", o, p, c)
				}
			}
		}
	}
}
