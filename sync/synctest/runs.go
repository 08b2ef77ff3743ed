package synctest

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyRun copies a fixture run directory into a test temporary directory.
func copyRun(tb testing.TB, run string) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), run)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(Fixtures(), run))); err != nil {
		tb.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "clearml_offline_session"))
	return dir
}

// WithWeights copies a fixture run and adds the genuine small checkpoint
// of testdata/checkpoints as weights/best.pt. It returns the directory.
func WithWeights(tb testing.TB, run string) string {
	tb.Helper()
	dir := copyRun(tb, run)
	ckpt, err := os.ReadFile(Checkpoint())
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights", "best.pt"), ckpt, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Checkpoint is the path of the genuine small checkpoint WithWeights adds.
func Checkpoint() string {
	return filepath.Join(Fixtures(), "..", "checkpoints", "best.pt")
}

// SynthRun writes a finished detect run (the "detect" fixture) of the
// given size: epochs rows of results.csv (time and 13 tracker metrics),
// valImages validation batch images, and weightMB MiB of weights/best.pt
// (five sixths random, like a checkpoint; 0: none).
func SynthRun(tb testing.TB, epochs, valImages, weightMB int) string {
	return SynthRunNamed(tb, "detect", epochs, valImages, weightMB)
}

// SynthRunNamed is SynthRun for a run of the given name (args.yaml name
// and save_dir), so that runs of different names have different ids.
func SynthRunNamed(tb testing.TB, name string, epochs, valImages, weightMB int) string {
	tb.Helper()
	dir := copyRun(tb, "detect")
	args, err := os.ReadFile(filepath.Join(dir, "args.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	args = []byte(strings.Replace(string(args), "\nepochs: 3\n", fmt.Sprintf("\nepochs: %d\n", epochs), 1))
	if name != "detect" {
		args = []byte(strings.Replace(string(args), "\nname: detect\n", "\nname: "+name+"\n", 1))
		args = []byte(strings.Replace(string(args), "/runs/detect\n", "/runs/"+name+"\n", 1))
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("args.yaml", args)
	var csv strings.Builder
	csv.WriteString("epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n")
	rng := rand.New(rand.NewSource(1))
	for e := 1; e <= epochs; e++ {
		fmt.Fprintf(&csv, "%d,%.3f", e, float64(e)*31.7)
		for i := 0; i < 13; i++ {
			fmt.Fprintf(&csv, ",%.5g", rng.Float64())
		}
		csv.WriteString("\n")
	}
	write("results.csv", []byte(csv.String()))
	img, err := os.ReadFile(filepath.Join(dir, "val_batch0_labels.jpg"))
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < valImages; i++ {
		write(fmt.Sprintf("val_batch%d_%s.jpg", i/2, []string{"labels", "pred"}[i%2]), img)
	}
	if weightMB > 0 {
		w := make([]byte, weightMB<<20)
		rng.Read(w[:len(w)*5/6])
		if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
			tb.Fatal(err)
		}
		write("weights/best.pt", w)
	}
	return dir
}

// BulkArchives captures n synthetic runs of distinct names (20 epochs, two
// validation images) and damages the archive at index damaged (cut to
// two thirds; -1 damages none), for bulk sync tests.
func BulkArchives(tb testing.TB, n, damaged int) []string {
	tb.Helper()
	var paths []string
	for i := 0; i < n; i++ {
		p := Capture(tb, SynthRunNamed(tb, fmt.Sprintf("run%02d", i), 20, 2, 0))
		if i == damaged {
			data, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			p = filepath.Join(tb.TempDir(), "damaged.tar.zst")
			if err := os.WriteFile(p, data[:len(data)*2/3], 0o644); err != nil {
				tb.Fatal(err)
			}
		}
		paths = append(paths, p)
	}
	return paths
}
