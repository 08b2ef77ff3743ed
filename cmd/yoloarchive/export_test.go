package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// followed writes the chain capture --follow writes for a 3-epoch
// training run, and returns its links and base name.
func followed(t *testing.T, steps int) (links []string, base string) {
	t.Helper()
	tr := synctest.NewTraining(t, "chain", 3)
	base = filepath.Join(t.TempDir(), "chain.tar.zst")
	f, err := convert.NewFollower(context.Background(), tr.Dir, base, convert.FollowOptions{
		Capture: convert.Options{Workers: 1}, Now: tr.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; !f.Final() && (steps < 0 || i < steps); i++ {
		if !tr.Done() {
			tr.Step()
		} else {
			tr.Wait(5 * time.Second)
		}
		if _, err := f.Step(context.Background()); err != nil && !errors.Is(err, convert.ErrNotReady) {
			t.Fatal(err)
		}
	}
	links, _ = filepath.Glob(filepath.Join(filepath.Dir(base), "chain.*.tar.zst"))
	return links, base
}

// epochsExported counts the epochs of the exported scalars (CSV).
func epochsExported(t *testing.T, out string) map[string]int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "table=scalars", "run=*", "part-0.csv"))
	runs := map[string]int{}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		col := -1
		for i, h := range strings.Split(lines[0], ",") {
			if h == "epoch" {
				col = i
			}
		}
		epochs := map[string]bool{}
		for _, l := range lines[1:] {
			epochs[strings.Split(l, ",")[col]] = true
		}
		runs[filepath.Base(filepath.Dir(f))] = len(epochs)
	}
	return runs
}

// TestCLI_ExportChain: `export run.*.tar.zst` of a 3-epoch chain exports
// one run of 3 epochs; with a complete archive of the same run beside it,
// the same choice as sync's is made (a final chain over the archive, an
// archive over an unfinished chain) and said.
func TestCLI_ExportChain(t *testing.T) {
	links, base := followed(t, -1)
	if len(links) < 3 {
		t.Fatalf("%d links", len(links))
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, append([]string{"export", "-f", "csv", "-o", out}, links...)...)
	if code != 0 || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("export: exit %d: %s %s", code, stdout, stderr)
	}
	if runs := epochsExported(t, out); len(runs) != 1 || runs[firstKey(runs)] != 3 {
		t.Errorf("exported runs and epochs: %v, want one run of 3", runs)
	}

	compact := filepath.Join(t.TempDir(), "compact.tar.zst")
	if code, _, stderr := runCLI(t, "capture", "--compact", links[0], "-o", compact); code != 0 {
		t.Fatalf("compact: %s", stderr)
	}
	out = t.TempDir()
	code, stdout, stderr = runCLI(t, "export", "-f", "csv", "-o", out, compact, base)
	if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.HasPrefix(stdout, base+" -> ") || !strings.Contains(stderr, compact+": skipped") {
		t.Errorf("a final chain and its compaction: exit %d: %s %s", code, stdout, stderr)
	}

	unfinished, _ := followed(t, 40)
	out = t.TempDir()
	code, stdout, stderr = runCLI(t, append([]string{"export", "-f", "csv", "-o", out, compact}, unfinished...)...)
	if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, compact) || !strings.Contains(stderr, "has no final link yet") {
		t.Errorf("an unfinished chain and an archive of its run: exit %d: %s %s", code, stdout, stderr)
	}
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}
