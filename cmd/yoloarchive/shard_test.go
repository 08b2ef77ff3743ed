package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

// TestCLI_Shard captures the fixture runs in 3 shards into one shared
// directory, as the tasks of a Slurm job array would: every run is
// captured by exactly one shard, the archives are those of one unsharded
// capture byte for byte, each shard keeps its own ledger, and the export of
// all shards' archives is the export of the unsharded ones.
func TestCLI_Shard(t *testing.T) {
	root := "../../testdata/github-runs/public"
	whole, shared := t.TempDir(), t.TempDir()
	if code, _, stderr := runCLI(t, "capture", "-r", root, "-o", whole, "-j", "2"); code != 0 {
		t.Fatalf("unsharded capture: exit %d: %s", code, stderr)
	}
	const n = 3
	seen := map[string]int{}
	for k := 1; k <= n; k++ {
		code, stdout, stderr := runCLI(t, "capture", "-r", root, "-o", shared, "--shard", fmt.Sprintf("%d/%d", k, n), "-j", "2")
		if code != 0 {
			t.Fatalf("shard %d/%d: exit %d: %s", k, n, code, stderr)
		}
		runs := 0
		for _, line := range strings.Split(stdout, "\n") {
			if src, _, ok := strings.Cut(line, " -> "); ok {
				src = src[strings.Index(src, "] ")+2:]
				seen[src]++
				runs++
			}
		}
		if runs == 0 {
			t.Errorf("shard %d/%d captured nothing:\n%s", k, n, stdout)
		}
		if _, err := os.Stat(filepath.Join(shared, convert.Shard{K: k, N: n}.LedgerName())); err != nil {
			t.Errorf("shard %d/%d has no ledger of its own: %v", k, n, err)
		}
	}
	all, _, _ := findRuns(root)
	for _, r := range all {
		if seen[r] != 1 {
			t.Errorf("%s captured by %d shards, want 1", r, seen[r])
		}
	}
	if len(seen) != len(all) {
		t.Errorf("shards captured %d runs, want %d", len(seen), len(all))
	}
	if _, err := os.Stat(filepath.Join(shared, convert.LedgerName)); err == nil {
		t.Errorf("the shards wrote the unsharded ledger")
	}
	sameTree(t, whole, shared, ".tar.zst")

	// A shard run again finds its runs unchanged in its own ledger.
	_, stdout, _ := runCLI(t, "capture", "-r", root, "-o", shared, "--shard", "2/3")
	if strings.Contains(stdout, " -> ") || !strings.Contains(stdout, "unchanged") {
		t.Errorf("shard 2/3 again captured runs:\n%s", stdout)
	}

	exports := [2]string{t.TempDir(), t.TempDir()}
	for i, dir := range []string{whole, shared} {
		archives, _ := filepath.Glob(filepath.Join(dir, "*.tar.zst"))
		if code, _, stderr := runCLI(t, append([]string{"export", "-o", exports[i]}, archives...)...); code != 0 {
			t.Fatalf("export: exit %d: %s", code, stderr)
		}
	}
	sameTree(t, exports[0], exports[1], "")
}

// sameTree checks that two directories hold the same files (those ending
// in suffix) with the same bytes.
func sameTree(t *testing.T, a, b, suffix string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		out := map[string][]byte{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, suffix) && !strings.HasPrefix(d.Name(), ".") {
				rel, _ := filepath.Rel(root, p)
				out[rel], _ = os.ReadFile(p)
			}
			return nil
		})
		return out
	}
	fa, fb := files(a), files(b)
	var names []string
	for n := range fa {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%d files against %d", len(fa), len(fb))
	}
	for _, n := range names {
		if !bytes.Equal(fa[n], fb[n]) {
			t.Errorf("%s differs", n)
		}
	}
}
