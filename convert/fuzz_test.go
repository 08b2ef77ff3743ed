package convert_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

func FuzzParseParams(f *testing.F) {
	for _, p := range []string{
		filepath.Join(fixtures, "detect/args.yaml"),
		filepath.Join(githubDir, "483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp/opt.yaml"),
		filepath.Join(githubDir, "483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp/hyp.yaml"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &x 1\nb: *x\nc: {d: [1, 2.0, x]}\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := convert.ParseParams(bytes.NewReader(data), "args.yaml", "args")
		if err != nil {
			if !errors.Is(err, convert.ErrBadParams) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error: %q", err)
			}
			return
		}
		for i, r := range p.Rows {
			if int(r.Position) != i || r.Key == "" || r.Type == "" {
				t.Fatalf("row %d = %+v", i, r)
			}
		}
	})
}

func FuzzReadPredictions(f *testing.F) {
	for _, p := range []string{
		filepath.Join(fixtures, "detect-savejson/predictions.json"),
		filepath.Join(githubDir, "omxqn__crack_detection__runs__segment__val/predictions.json"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 { // keep the seeds short: cut after the first objects
			i := bytes.Index(data[2048:], []byte("}, {"))
			data = append(data[:2048+i+1], ']')
		}
		f.Add(data)
	}
	f.Add([]byte(`[{"image_id": "a", "category_id": 1, "score": 0.5, "rbox": [1,2,3,4,0.5], "poly": [1,2,3,4,5,6,7,8]}]`))
	f.Add([]byte(`[{"image_id": 7, "category_id": 1, "bbox": [1,2,3,4], "score": 0.8, "keypoints": [1,2,0.9]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := convert.ReadPredictions(bytes.NewReader(data), "predictions.json", func(p *convert.Prediction) error {
			if p.Index != int64(n) || p.Image == "" {
				t.Fatalf("prediction %d = %+v", n, p)
			}
			n++
			return nil
		})
		if err != nil && (!errors.Is(err, convert.ErrBadPredictions) || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("bad error: %q", err)
		}
	})
}

// FuzzReadLines checks that every line is either passed on or reported
// broken, whatever the input.
func FuzzReadLines(f *testing.F) {
	data, err := os.ReadFile(filepath.Join(sessionFolder, "metrics.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, 64)
	f.Add([]byte("a\n\n\r\nb"), 1)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max <= 0 || max > 1<<20 {
			return
		}
		last, passed, broken := 0, 0, 0
		err := convert.ReadLines(bytes.NewReader(data), max, func(line []byte, n int) error {
			if n <= last || len(line) > max || bytes.ContainsRune(line, '\n') {
				t.Fatalf("line %d after %d: %d bytes", n, last, len(line))
			}
			last = n
			passed++
			return nil
		}, func(n int, err error) {
			if n <= last {
				t.Fatalf("broken line %d after %d", n, last)
			}
			last = n
			broken++
		})
		// Every line is passed on, reported broken, or blank.
		segs := bytes.Split(data, []byte("\n"))
		if len(segs[len(segs)-1]) == 0 {
			segs = segs[:len(segs)-1]
		}
		wantPassed, wantBroken := 0, 0
		for i, s := range segs {
			if i < len(segs)-1 || bytes.HasSuffix(data, []byte("\n")) {
				s = bytes.TrimSuffix(s, []byte("\r")) // "\r\n" ends a line
			}
			switch {
			case len(s) > max:
				wantBroken++
			case len(bytes.TrimSpace(s)) > 0:
				wantPassed++
			}
		}
		if passed != wantPassed || broken != wantBroken {
			t.Fatalf("%d lines passed, %d broken; want %d, %d", passed, broken, wantPassed, wantBroken)
		}
		if err != nil {
			t.Fatal(err)
		}
		if lines := bytes.Count(data, []byte("\n")) + 1; last > lines {
			t.Fatalf("line %d of %d", last, lines)
		}
	})
}

// writeFuzzFile replaces a file of a fuzz target's folder with an input.
func writeFuzzFile(tb testing.TB, path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// sessionZipSeeds are FuzzSessionZip's seeds: the fixture session's zip
// with its images replaced by 2×2 ones of the same type (every entry
// kept: 13 KB instead of 540 KB, which every mutation paid to inflate and
// copy), and a zip with an entry that climbs out.
func sessionZipSeeds(tb testing.TB) [][]byte {
	zr, err := zip.OpenReader(sessionFolder + ".zip")
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	small := image.NewRGBA(image.Rect(0, 0, 2, 2))
	var pngData, jpegData bytes.Buffer
	if err := png.Encode(&pngData, small); err != nil {
		tb.Fatal(err)
	}
	if err := jpeg.Encode(&jpegData, small, nil); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range zr.File {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: e.Method, Modified: e.Modified})
		if err != nil {
			tb.Fatal(err)
		}
		switch strings.ToLower(filepath.Ext(e.Name)) {
		case ".png":
			_, err = w.Write(pngData.Bytes())
		case ".jpg", ".jpeg":
			_, err = w.Write(jpegData.Bytes())
		default:
			var rc io.ReadCloser
			if rc, err = e.Open(); err == nil {
				_, err = io.Copy(w, rc)
				rc.Close()
			}
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	seeds := [][]byte{buf.Bytes()}
	var climb bytes.Buffer
	zw = zip.NewWriter(&climb)
	w, _ := zw.Create("task.json")
	w.Write([]byte(`{"id":"offline-1","name":"abc"}`))
	w, _ = zw.Create("../x")
	w.Write([]byte("x"))
	zw.Close()
	return append(seeds, climb.Bytes())
}

// FuzzSessionZip reads fuzzed session zips: never a panic or a file
// written outside the extraction folder, and an error is one line naming
// the zip. It reads (checks, extracts and parses the zip) and does not
// write the archive: writing rows is the archive writer's, tested on its
// own, and its compression and fsync took most of each input's time.
func FuzzSessionZip(f *testing.F) {
	for _, s := range sessionZipSeeds(f) {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) { readSessionZip(t, dir, data) })
}

// readSessionZip is FuzzSessionZip's body: dir/in/s.zip is rewritten for
// each input.
func readSessionZip(tb testing.TB, dir string, data []byte) {
	src := filepath.Join(dir, "in", "s.zip")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		tb.Fatal(err)
	}
	writeFuzzFile(tb, src, data)
	r, err := convert.Read(context.Background(), src, convert.Options{Workers: 1})
	if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), src)) {
		tb.Fatalf("bad error: %q", err)
	}
	if err == nil {
		r.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		tb.Fatal("wrote outside")
	}
}

// allocated returns the bytes fn allocates (all goroutines).
func allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// FuzzParseResultsBudget parses fuzzed results.csv files: the memory
// allocated stays proportional to the input (a small file cannot claim
// huge tables), under 64 bytes per input byte plus 4 MiB.
func FuzzParseResultsBudget(f *testing.F) {
	for _, p := range []string{filepath.Join(fixtures, "detect/results.csv"), filepath.Join(fixtures, "segment/results.csv")} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("epoch,time,a\n1,2,3\n2,3"))
	f.Add([]byte("epoch," + strings.Repeat("a,", 1000) + "b\n" + strings.Repeat("1,", 1001) + "1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		n := allocated(func() { _, err = convert.ParseResults(bytes.NewReader(data), "results.csv") })
		if limit := 64*uint64(len(data)) + 4<<20; n > limit {
			t.Fatalf("%d input bytes allocated %d bytes, over %d (err %v)", len(data), n, limit, err)
		}
	})
}
