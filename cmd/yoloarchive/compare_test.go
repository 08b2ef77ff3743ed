package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestInspect_OneArchiveUnchanged: inspect of one archive prints exactly
// what it printed before it could compare (output kept from that build;
// since gaps record facts, MLflow is named beside the gaps that matter to
// it).
func TestInspect_OneArchiveUnchanged(t *testing.T) {
	arch := "../../testdata/archives/v1.0-detect.tar.zst"
	for _, tc := range []struct{ golden, flag string }{
		{"testdata/inspect-v1.0-detect.golden", ""},
		{"testdata/inspect-v1.0-detect.json.golden", "--json"},
	} {
		want, err := os.ReadFile(tc.golden)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"inspect", arch}
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		code, out, stderr := runCLI(t, args...)
		if code != 0 || out != string(want) {
			t.Errorf("inspect %s: exit %d (%s), output differs from %s:\n%s", tc.flag, code, stderr, tc.golden, out)
		}
	}
}

// followChain writes a chain of a synthetic run while it trains and
// returns its link files and the finished run directory.
func followChain(t *testing.T) (links []string, dir string) {
	t.Helper()
	tr := synctest.NewTraining(t, "cmp", 3)
	base := filepath.Join(t.TempDir(), "cmp.tar.zst")
	ctx := context.Background()
	f, err := convert.NewFollower(ctx, tr.Dir, base, convert.FollowOptions{Capture: convert.Options{Workers: 1}, Now: tr.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; !f.Final(); i++ {
		if i > 500 {
			t.Fatal("no final link")
		}
		if !tr.Done() {
			tr.Step()
		} else {
			tr.Wait(5 * time.Second)
		}
		if _, err := f.Step(ctx); err != nil && !errors.Is(err, convert.ErrNotReady) {
			t.Fatal(err)
		}
	}
	links, _, err = chain.Files(base)
	if err != nil || len(links) < 2 {
		t.Fatalf("%d links: %v", len(links), err)
	}
	return links, tr.Dir
}

// TestCompare: several archives side by side; a chain's links count as
// one run, with the values of a capture of the finished run; each run's
// best and final values are inspect's best and last.
func TestCompare(t *testing.T) {
	dir := t.TempDir()
	detect, seg := filepath.Join(dir, "detect.tar.zst"), filepath.Join(dir, "seg.tar.zst")
	for src, dst := range map[string]string{"detect": detect, "segment-savejson": seg} {
		if code, _, stderr := runCLI(t, "capture", "-q", filepath.Join(fixtures, src), "-o", dst); code != 0 {
			t.Fatalf("capture %s: %s", src, stderr)
		}
	}
	links, runDir := followChain(t)
	whole := filepath.Join(dir, "whole.tar.zst")
	if code, _, stderr := runCLI(t, "capture", "-q", runDir, "-o", whole); code != 0 {
		t.Fatalf("capture: %s", stderr)
	}

	args := append([]string{"compare", "--json", detect, seg}, links...)
	code, out, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, stderr)
	}
	var rep compareReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 3 || rep.Runs[2].Links != len(links) {
		t.Fatalf("%d runs (the chain's: %d links): %s", len(rep.Runs), rep.Runs[len(rep.Runs)-1].Links, out)
	}
	for i, p := range []string{detect, seg, whole} {
		_, one, _ := runCLI(t, "inspect", "--json", p)
		var ins inspectReport
		if err := json.Unmarshal([]byte(one), &ins); err != nil {
			t.Fatal(err)
		}
		got := rep.Runs[i]
		if got.RunID != ins.Run.RunID || len(got.Metrics) != len(ins.Metrics) {
			t.Fatalf("run %d: %s with %d metrics; inspect: %s with %d", i+1, got.RunID, len(got.Metrics), ins.Run.RunID, len(ins.Metrics))
		}
		for j, m := range ins.Metrics {
			g := got.Metrics[j]
			if g.Final != m.Last || !reflect.DeepEqual(g.Best, m.Best) || !reflect.DeepEqual(g.BestEpoch, m.BestEpoch) {
				t.Errorf("run %d %s: best %v (%v), final %v; inspect best %v (%v), last %v", i+1, m.Metric, g.Best, g.BestEpoch, g.Final, m.Best, m.BestEpoch, m.Last)
			}
		}
	}
	if len(rep.Metrics) == 0 || rep.Metrics[0] != rep.Runs[0].Metrics[0].Metric {
		t.Errorf("metrics %v", rep.Metrics)
	}

	// The terminal table: one column per run, the better run marked.
	code, out, _ = runCLI(t, "inspect", detect, seg)
	if code != 0 || !strings.Contains(out, "train/dfl_loss") || !strings.Contains(out, "0.67039* (2), final 3.35083") {
		t.Errorf("table: exit %d:\n%s", code, out)
	}
	// A damaged archive fails alone: exit 3, one line naming it.
	bad := filepath.Join(dir, "bad.tar.zst")
	data, _ := os.ReadFile(detect)
	os.WriteFile(bad, data[:len(data)/2], 0o644)
	code, out, stderr = runCLI(t, "compare", detect, bad, seg)
	if code != exitPartial || !strings.HasPrefix(stderr, "failed: "+bad) || !strings.Contains(out, "segment-savejson") {
		t.Errorf("damaged: exit %d, %q, %q", code, out, stderr)
	}
}
