package chain_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// holdLockEnv makes the test binary a helper process that takes the lock
// of the chain it names, says "locked" and waits to be killed.
const holdLockEnv = "YOLOARCHIVE_CHAIN_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if base := os.Getenv(holdLockEnv); base != "" {
		w, _, err := chain.NewWriter(context.Background(), base)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		runtime.KeepAlive(w) // the lock's file must not be collected and closed
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// appendLink appends a link holding the scalars with w.
func appendLink(t *testing.T, w *chain.Writer, final bool, scalars ...schemas.ScalarRow) (string, string) {
	t.Helper()
	status := schemas.StatusRunning
	if final {
		status = schemas.StatusFinished
	}
	path, digest, err := w.Append(final, "opts", func(path string, link *schemas.ChainLink) (string, error) {
		return writeLink(t, path, runA, link, status, scalars...), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, digest
}

// TestWriter_Append: a Writer numbers links from 0, each naming its
// predecessor; a new Writer continues after the last link; after the final
// link Append fails.
func TestWriter_Append(t *testing.T) {
	ctx := context.Background()
	base := filepath.Join(t.TempDir(), "out", "run.tar.zst")
	w, c, err := chain.NewWriter(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		t.Fatalf("a new chain opened %d links", len(c.Links))
	}
	p0, d0 := appendLink(t, w, false, pt("a", 1, 1))
	if p0 != chain.LinkPath(base, 0) {
		t.Errorf("link 0 at %s, want %s", p0, chain.LinkPath(base, 0))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, c, err = chain.NewWriter(ctx, chain.LinkPath(base, 0))
	if err != nil {
		t.Fatal(err)
	}
	if c == nil || len(c.Links) != 1 || c.Head() != d0 {
		t.Fatalf("reopened chain: %+v, want link 0 %s", c, d0)
	}
	c.Close()
	if got, seq := w.Next(); seq != 1 || got != chain.LinkPath(base, 1) {
		t.Errorf("next = %s %d, want link 1", got, seq)
	}
	_, d1 := appendLink(t, w, true, pt("a", 2, 2))
	if !w.Final() || w.Links() != 2 {
		t.Errorf("final %v links %d, want true 2", w.Final(), w.Links())
	}
	if _, _, err := w.Append(false, "opts", func(string, *schemas.ChainLink) (string, error) {
		t.Fatal("write called after the final link")
		return "", nil
	}); !errors.Is(err, chain.ErrEnded) {
		t.Errorf("append after final: %v, want ErrEnded", err)
	}
	w.Close()
	c, err = chain.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Links[1].Header.Chain; got.Prev != d0 || got.Seq != 1 || !got.Final || c.Head() != d1 {
		t.Errorf("link 1 = %+v head %s, want seq 1 after %s, final, head %s", got, c.Head(), d0, d1)
	}
}

// TestWriter_OneAtATime: of writers racing for one chain exactly one
// wins; the others fail at once naming the lock; once the winner closes,
// the next takes the chain and continues it.
func TestWriter_OneAtATime(t *testing.T) {
	ctx := context.Background()
	base := filepath.Join(t.TempDir(), "run.tar.zst")
	const n = 8
	var (
		mu      sync.Mutex
		winners []*chain.Writer
		losers  []error
		wg      sync.WaitGroup
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, _, err := chain.NewWriter(ctx, base)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				losers = append(losers, err)
				return
			}
			winners = append(winners, w)
		}()
	}
	wg.Wait()
	if len(winners) != 1 || len(losers) != n-1 {
		t.Fatalf("winners=%d losers=%d, want 1 and %d", len(winners), len(losers), n-1)
	}
	for _, err := range losers {
		if !errors.Is(err, chain.ErrLocked) || !strings.Contains(err.Error(), chain.LockPath(base)) {
			t.Errorf("loser: %v, want ErrLocked naming %s", err, chain.LockPath(base))
		}
	}
	appendLink(t, winners[0], false, pt("a", 1, 1))
	winners[0].Close()
	w, c, err := chain.NewWriter(ctx, base)
	if err != nil {
		t.Fatalf("after the winner closed: %v", err)
	}
	defer w.Close()
	c.Close()
	if _, seq := w.Next(); seq != 1 {
		t.Errorf("next link %d, want 1", seq)
	}
}

// TestWriter_StaleLock: a writer killed while it held the chain (kill -9:
// no Close) leaves its lock file and a half-written link behind; the next
// Writer takes the chain at once and removes the temporary file, and only
// this chain's.
func TestWriter_StaleLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	base := filepath.Join(dir, "run.tar.zst")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+base)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper: %q", line)
	}
	if _, _, err := chain.NewWriter(ctx, base); !errors.Is(err, chain.ErrLocked) {
		t.Fatalf("while another process holds the chain: %v, want ErrLocked", err)
	}
	tmp := filepath.Join(dir, ".run.000.tar.zst.123.tmp")
	other := filepath.Join(dir, ".other.000.tar.zst.123.tmp")
	for _, p := range []string{tmp, other} {
		if err := os.WriteFile(p, []byte("half a link"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(chain.LockPath(base)); err != nil {
		t.Fatalf("the killed writer's lock file: %v", err)
	}
	w, c, err := chain.NewWriter(ctx, base)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	defer w.Close()
	if c != nil {
		t.Errorf("opened %d links, want none", len(c.Links))
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed writer's temporary link: %v, want removed", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another chain's temporary file: %v, want kept", err)
	}
	appendLink(t, w, false, pt("a", 1, 1))
}

// TestWriter_Orphans: a link after a missing one stops the writer with
// ErrBroken naming the file, and releases the lock.
func TestWriter_Orphans(t *testing.T) {
	ctx := context.Background()
	base := filepath.Join(t.TempDir(), "run.tar.zst")
	writeLink(t, chain.LinkPath(base, 1), runA, &schemas.ChainLink{Seq: 1, Prev: strings.Repeat("0", 64)}, schemas.StatusRunning)
	_, _, err := chain.NewWriter(ctx, base)
	if !errors.Is(err, chain.ErrBroken) || !strings.Contains(err.Error(), chain.LinkPath(base, 1)) {
		t.Fatalf("err = %v, want ErrBroken naming link 1", err)
	}
	if err := os.Remove(chain.LinkPath(base, 1)); err != nil {
		t.Fatal(err)
	}
	w, _, err := chain.NewWriter(ctx, base)
	if err != nil {
		t.Fatalf("the failed writer kept the lock: %v", err)
	}
	w.Close()
}
