package convert_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

// benchRun builds a realistic run directory: the segment fixture (images,
// plots, results.csv, predictions.json with masks) plus two weight files
// of weightMB megabytes that compress like real checkpoints (mostly
// incompressible float data, some zero padding).
func benchRun(b *testing.B, weightMB int) string {
	b.Helper()
	dir := copyDir(b, filepath.Join(fixtures, "segment-savejson"))
	rng := rand.New(rand.NewSource(1))
	if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"best.pt", "last.pt"} {
		w := make([]byte, weightMB<<20)
		rng.Read(w[:len(w)*5/6]) // the last sixth stays zero
		if err := os.WriteFile(filepath.Join(dir, "weights", name), w, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// BenchmarkCapture captures the run directory (hashing, parsing, contours,
// Parquet, tar, zstd, fsync). Compare with BenchmarkTarZstd.
func BenchmarkCapture(b *testing.B) {
	for _, mb := range []int{6, 50} {
		b.Run(fmt.Sprintf("weights=%dMB", mb), func(b *testing.B) { benchCapture(b, mb) })
	}
}

func benchCapture(b *testing.B, mb int) {
	dir := benchRun(b, mb)
	out := filepath.Join(b.TempDir(), "run.tar.zst")
	opts := convert.Options{Data: filepath.Join(fixtures, "datasets/segment/data.yaml")}
	b.SetBytes(dirSize(b, dir))
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		res, err := convert.Capture(context.Background(), dir, out, opts)
		if err != nil {
			b.Fatal(err)
		}
		size = res.Size
	}
	b.ReportMetric(float64(size), "archive-bytes")
}

// BenchmarkTarZstd runs `tar --zstd -cf` on the same directory: the
// baseline capture is measured against.
func BenchmarkTarZstd(b *testing.B) {
	if _, err := exec.LookPath("zstd"); err != nil {
		b.Skip("zstd is not installed (scripts/install-deps.sh installs it)")
	}
	for _, mb := range []int{6, 50} {
		b.Run(fmt.Sprintf("weights=%dMB", mb), func(b *testing.B) { benchTar(b, mb) })
	}
}

func benchTar(b *testing.B, mb int) {
	dir := benchRun(b, mb)
	out := filepath.Join(b.TempDir(), "run.tar.zst")
	b.SetBytes(dirSize(b, dir))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command("tar", "--zstd", "-cf", out, "-C", dir, ".")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("tar: %v: %s", err, msg)
		}
	}
	st, _ := os.Stat(out)
	b.ReportMetric(float64(st.Size()), "archive-bytes")
}
