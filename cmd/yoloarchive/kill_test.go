package main

import (
	"context"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestCLI_KillNine runs the real binary as cron and a careless operator
// would: `capture --follow` and `sync` of the chain as child processes,
// each killed with SIGKILL at random moments (mid-look, mid-write,
// mid-request) and started again, while a training run is written. In
// the end the chain, compacted, holds exactly one capture of the finished
// run, and the ClearML test server one completed task with exactly the
// events one sync of that capture gives.
func TestCLI_KillNine(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "yoloarchive")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := clearmlEnv(t)
	tr := synctest.NewTraining(t, "kill9", 5)
	out := t.TempDir()
	base := filepath.Join(out, "run.tar.zst")
	state := t.TempDir()
	rng := rand.New(rand.NewSource(9))

	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = os.Environ()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	var follow *exec.Cmd
	startFollow := func() {
		follow = start("capture", "--follow", tr.Dir, "-o", base, "--every", "1s", "--settle", "1ms")
	}
	startFollow()
	kills := map[string]int{}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if time.Now().After(deadline) {
			follow.Process.Kill()
			t.Fatal("the follower never wrote its final link")
		}
		if !tr.Done() {
			tr.Step()
		}
		time.Sleep(time.Duration(20+rng.Intn(60)) * time.Millisecond)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("follower: %v", err)
			}
			goto followed
		default:
		}
		if rng.Intn(6) == 0 {
			follow.Process.Signal(syscall.SIGKILL)
			<-done
			kills["capture"]++
			startFollow()
			go func() { done <- follow.Wait() }()
		}
		if rng.Intn(4) == 0 {
			if links, _, _ := chain.Files(base); len(links) > 0 {
				s := start("sync", links[0], "--to", "clearml", "--state-dir", state)
				if rng.Intn(2) == 0 {
					time.Sleep(time.Duration(rng.Intn(300)) * time.Millisecond)
					s.Process.Signal(syscall.SIGKILL)
					kills["sync"]++
				}
				s.Wait()
			}
		}
	}
followed:
	t.Logf("killed: %v", kills)
	links, orphans, err := chain.Files(base)
	if err != nil || len(orphans) > 0 {
		t.Fatal(err, orphans)
	}
	code, stdout, stderr := runCLI(t, "sync", links[0], "--to", "clearml", "--state-dir", state)
	if code != 0 || !strings.Contains(stdout, ": synced ") && !strings.Contains(stdout, ": up-to-date ") {
		t.Fatalf("final sync: exit %d: %s %s", code, stdout, stderr)
	}

	// The chain equals one capture of the finished run.
	compact := filepath.Join(t.TempDir(), "compact.tar.zst")
	if _, err := convert.Compact(context.Background(), base, compact, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(t.TempDir(), "full.tar.zst")
	if _, err := convert.Capture(context.Background(), tr.Dir, full, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{schemas.TableScalars, schemas.TableImages, schemas.TableAssets, schemas.TableParams} {
		if a, b := tableRows(t, compact, table), tableRows(t, full, table); a != b {
			t.Errorf("table %s: the chain has %d rows, one capture %d", table, a, b)
		}
	}
	if ca, fa := digestOf(t, compact), digestOf(t, full); ca != fa {
		t.Logf("compacted %s, full capture %s (times may differ: compared table by table)", ca, fa)
	}

	// The server holds one completed task with one clean sync's events.
	tasks := srv.Tasks()
	if len(tasks) != 1 || tasks[0].Status != "completed" {
		t.Fatalf("%d tasks: %+v", len(tasks), tasks)
	}
	got := len(srv.Events(tasks[0].ID))
	ref := clearmlEnv(t)
	if code, _, stderr := runCLI(t, "sync", full, "--to", "clearml", "--state-dir", t.TempDir()); code != 0 {
		t.Fatalf("reference sync: %s", stderr)
	}
	if want := len(ref.Events(ref.Tasks()[0].ID)); got != want {
		t.Errorf("%d events after the killed syncs, %d from one sync of the finished run", got, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(out, ".*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func tableRows(t *testing.T, path, table string) int64 {
	a, err := archive.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	return a.Rows(table)
}

func digestOf(t *testing.T, path string) string {
	a, err := archive.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	return a.Digest
}
