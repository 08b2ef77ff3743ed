package convert_test

import (
	"archive/zip"
	"bufio"
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

// cometZipBench writes a Comet offline zip of a long run: n metric
// messages (a 13-metric epoch per 13 lines), params and a console line
// per epoch, the way the SDK writes them.
func cometZipBench(b *testing.B, n int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "exp.zip")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("experiment.json")
	w.Write([]byte(`{"offline_id":"0123456789abcdef0123456789abcdef","project_name":"bench","start_time":1764737713000,"stop_time":1764747713000,"tags":[]}`))
	w, _ = zw.Create("messages.json")
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `{"type":"parameter_msg","payload":{"local_timestamp":1764737713000,"context":null,"param":{"paramName":"epochs","paramValue":%d,"step":null,"source":"manual"}}}`+"\n", n/13)
	for i := 0; i < n; i++ {
		e := i/13 + 1
		fmt.Fprintf(bw, `{"type":"metric_msg","payload":{"local_timestamp":%d,"context":null,"metric":{"metricName":"m%d","metricValue":%v,"step":%d,"epoch":%d}}}`+"\n",
			1764737713000+int64(i), i%13, rand.Float64(), e*100, e)
		if i%13 == 12 {
			fmt.Fprintf(bw, `{"type":"standard_output","payload":{"output":"epoch %d done\n","stderr":false,"local_timestamp":%d,"context":null}}`+"\n", e, 1764737713000+int64(i))
		}
	}
	bw.Flush()
	zw.Close()
	f.Close()
	return p
}

// BenchmarkCaptureCometZip captures a Comet zip of 130,000 metric points
// (10,000 epochs of 13 metrics): unzip, parse every line, write the
// archive. Reports messages per second.
func BenchmarkCaptureCometZip(b *testing.B) {
	const n = 130000
	src := cometZipBench(b, n)
	out := filepath.Join(b.TempDir(), "run.tar.zst")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := convert.Capture(context.Background(), src, out, convert.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n+n/13)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
