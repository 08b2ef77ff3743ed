package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCLI_SignalSyncOwnCancellation: a sync interrupted with Ctrl-C stops
// through its own cancellation (every stage honours the context), not
// because the watchdog ended it 1.5 s later, for each destination. The
// watchdog, in the hooked binary, writes the goroutines' stacks when it
// fires: they name the stage that ignored the context.
func TestCLI_SignalSyncOwnCancellation(t *testing.T) {
	bin := buildHooked(t)
	work := t.TempDir()
	run := synctest.SynthRun(t, 30000, 8, 160)
	big := filepath.Join(work, "big.tar.zst")
	if _, err := convert.Capture(context.Background(), run, big, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	cml := clearmltest.New()
	defer cml.Close()
	cmt := comettest.New()
	defer cmt.Close()
	var report []string
	for _, to := range []string{"clearml", "comet", "clearml-offline", "comet-offline"} {
		t.Run(to, func(t *testing.T) {
			var times []string
			interrupted := 0
			for _, delay := range []time.Duration{250 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond} {
				out, state, tmp := t.TempDir(), t.TempDir(), t.TempDir()
				fired := filepath.Join(t.TempDir(), "watchdog")
				env := append(os.Environ(), "TMPDIR="+tmp, "HOME="+t.TempDir(), "CLEARML_CONFIG_FILE=",
					"CLEARML_API_HOST="+cml.API.URL, "CLEARML_WEB_HOST="+cml.WebURL(), "CLEARML_FILES_HOST="+cml.Files.URL,
					"CLEARML_API_ACCESS_KEY="+cml.AccessKey, "CLEARML_API_SECRET_KEY="+cml.SecretKey,
					"COMET_CONFIG=", "COMET_API_KEY="+cmt.APIKey, "COMET_URL_OVERRIDE="+cmt.URLOverride(),
					"YOLOARCHIVE_TEST_WATCHDOG="+fired)
				args := []string{"sync", big, "--to", to, "--state-dir", state}
				if strings.HasSuffix(to, "-offline") {
					args = append(args, "--out", out)
				}
				took, finished := interrupt(t, bin, env, syscall.SIGINT, delay, args...)
				if finished {
					times = append(times, fmt.Sprintf("%v→(done before)", delay))
					continue
				}
				interrupted++
				times = append(times, fmt.Sprintf("%v→%v", delay, took.Round(10*time.Millisecond)))
				if stacks, err := os.ReadFile(fired); err == nil {
					t.Errorf("Ctrl-C after %v: the watchdog ended the sync after %v; its goroutines:\n%s", delay, took.Round(time.Millisecond), stacks)
				}
			}
			if interrupted < 2 {
				t.Errorf("interrupted at %d moments, want at least 2: make the run bigger", interrupted)
			}
			report = append(report, fmt.Sprintf("%-16s %s", to, strings.Join(times, "  ")))
		})
	}
	t.Logf("time to exit after Ctrl-C (sent after → exit took):\n%s", strings.Join(report, "\n"))
}
