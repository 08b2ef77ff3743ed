package contours_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/vision/contours"
	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// modeEnv makes the test binary a helper (see TestMain) with a fake
// polygons function: "serve" answers every mask; "die" exits when a mask
// of height 13 arrives, "killed" is killed by a signal on one (as by the
// OOM killer), "crash" crashes on one, "hang" never answers one;
// "mute" never greets; "badlib" fails as a missing shared library does;
// "garbage" greets with junk.
const modeEnv = "CONTOURS_TEST_MODE"

func TestMain(m *testing.M) {
	switch mode := os.Getenv(modeEnv); mode {
	case "":
		os.Exit(m.Run())
	case "mute":
		time.Sleep(time.Hour)
	case "badlib":
		fmt.Fprintln(os.Stderr, "yoloarchive-contours: error while loading shared libraries: libopencv_imgproc.so.406: cannot open shared object file: No such file or directory")
		os.Exit(127)
	case "garbage":
		os.Stdout.WriteString("\x05\x00\x00\x00hello")
		time.Sleep(time.Hour)
	default:
		err := contours.Serve(os.Stdin, os.Stdout, "test", func(r mask.RLE) ([][]int32, error) {
			if r.Height == 13 {
				switch mode {
				case "die":
					fmt.Fprintln(os.Stderr, "boom: a mask of height 13")
					os.Exit(2)
				case "killed":
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					time.Sleep(time.Hour)
				case "crash": // as a fault in OpenCV: Go prints a trace and exits 2
					go func() { panic("crash in a mask of height 13") }()
					time.Sleep(time.Hour)
				case "hang":
					time.Sleep(time.Hour)
				}
			}
			return fake(r)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// fake is the test helper's polygons: the corners of the bounding box,
// and an error for masks of height 7.
func fake(r mask.RLE) ([][]int32, error) {
	if r.Height == 7 {
		return nil, errors.New("seven is not allowed")
	}
	b := r.Bounds()
	if b.Empty() {
		return nil, nil
	}
	x0, y0, x1, y1 := int32(b.X0), int32(b.Y0), int32(b.X1-1), int32(b.Y1-1)
	return [][]int32{{x0, y0, x1, y0, x1, y1, x0, y1}, {int32(r.Height), int32(r.Width), int32(len(r.Counts)), 0}}, nil
}

// helper returns a Helper running this test binary in mode.
func helper(t *testing.T, mode string, timeout time.Duration) *contours.Helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(modeEnv, mode)
	h := contours.New(contours.Config{Path: exe, Timeout: timeout})
	t.Cleanup(func() { h.Close() })
	return h
}

// rle is a valid h×w mask with one run of ones at offset off.
func rle(h, w, off, n int) mask.RLE {
	return mask.RLE{Height: h, Width: w, Counts: []uint32{uint32(off), uint32(n), uint32(h*w - off - n)}}
}

func TestHelper_Polygons_Concurrent(t *testing.T) {
	h := helper(t, "serve", 0)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r := rle(20+g, 30+i%50, i%97, 1+i%300)
				got, err := h.Polygons(context.Background(), r)
				want, _ := fake(r)
				if err != nil || !reflect.DeepEqual(got, want) {
					errs <- fmt.Errorf("mask %dx%d: got %v, %v; want %v", r.Height, r.Width, got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, err := h.Polygons(context.Background(), mask.RLE{Height: 4, Width: 4, Counts: []uint32{16}}); got != nil || err != nil {
		t.Errorf("empty mask: %v, %v; want nil, nil", got, err)
	}
}

func TestHelper_Polygons_Errors(t *testing.T) {
	h := helper(t, "serve", 0)
	if _, err := h.Polygons(context.Background(), mask.RLE{Height: 2, Width: 2, Counts: []uint32{5}}); !errors.Is(err, mask.ErrBadRLE) {
		t.Errorf("bad RLE: err = %v, want ErrBadRLE", err)
	}
	_, err := h.Polygons(context.Background(), rle(7, 7, 0, 3))
	if err == nil || !strings.Contains(err.Error(), "seven is not allowed") {
		t.Errorf("helper error: err = %v", err)
	}
	if _, err := h.Polygons(context.Background(), rle(8, 8, 0, 3)); err != nil {
		t.Errorf("after an error response: %v", err)
	}
}

// TestHelper_Failures: a helper that dies, crashes, hangs, never gets
// ready, lacks its libraries or is not a helper fails the call with one
// line saying so, in bounded time; the next call starts a new helper.
func TestHelper_Failures(t *testing.T) {
	for _, tc := range []struct {
		mode  string
		masks int // the height-13 mask is sent first; then masks-1 good ones at once
		want  []string
	}{
		{"die", 8, []string{"died (exit status 2)", "boom: a mask of height 13"}},
		{"killed", 8, []string{"died (signal: killed)"}},
		{"crash", 8, []string{"died (exit status 2): panic: crash in a mask of height 13"}},
		{"hang", 8, []string{"answered nothing in 300ms: killed it", contours.EnvTimeout}},
		{"mute", 1, []string{"did not get ready in 300ms: killed it"}},
		{"badlib", 1, []string{"died (exit status 127) before it was ready", "libopencv_imgproc.so.406", "install the OpenCV runtime"}},
		{"garbage", 1, []string{"did not greet as a yoloarchive-contours helper"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			h := helper(t, tc.mode, 300*time.Millisecond)
			start := time.Now()
			errs := make([]error, tc.masks)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i > 0 {
						time.Sleep(20 * time.Millisecond)
					}
					_, errs[i] = h.Polygons(context.Background(), rle(13-i%2, 10, 0, 5))
				}()
			}
			wg.Wait()
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			err := errs[0]
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err spans lines: %q", err)
			}
			t.Setenv(modeEnv, "serve")
			r := rle(20, 10, 3, 5)
			got, err := h.Polygons(context.Background(), r)
			if want, _ := fake(r); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("the next call: %v, %v; want %v", got, err, want)
			}
		})
	}
}

func TestHelper_Canceled(t *testing.T) {
	h := helper(t, "hang", time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := h.Polygons(ctx, rle(13, 10, 0, 5)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's", err)
	}
}

func TestHelper_Close(t *testing.T) {
	h := helper(t, "serve", 0)
	if _, err := h.Polygons(context.Background(), rle(10, 10, 0, 5)); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Polygons(context.Background(), rle(10, 10, 0, 5)); err != nil {
		t.Errorf("after Close: %v", err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, contours.Name)
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, nil, 0o644)

	t.Setenv("PATH", dir)
	t.Setenv(contours.EnvPath, "")
	if got, err := contours.Find(); err != nil || got != exe {
		t.Errorf("on PATH: %q, %v; want %q", got, err, exe)
	}
	t.Setenv(contours.EnvPath, plain)
	if _, err := contours.Find(); !errors.Is(err, contours.ErrNotFound) || !strings.Contains(err.Error(), "not an executable file") {
		t.Errorf("$%s names a plain file: %v", contours.EnvPath, err)
	}
	t.Setenv(contours.EnvPath, filepath.Join(dir, "missing"))
	if _, err := contours.Find(); !errors.Is(err, contours.ErrNotFound) || !strings.Contains(err.Error(), "$YOLOARCHIVE_CONTOURS names "+filepath.Join(dir, "missing")) {
		t.Errorf("$%s names a missing file: %v", contours.EnvPath, err)
	}
	t.Setenv(contours.EnvPath, "")
	t.Setenv("PATH", t.TempDir())
	_, err := contours.Find()
	if !errors.Is(err, contours.ErrNotFound) || !strings.Contains(err.Error(), "not beside this program") {
		t.Errorf("nowhere: %v", err)
	}
	h := contours.New(contours.Config{})
	if _, err := h.Polygons(context.Background(), rle(10, 10, 0, 5)); !errors.Is(err, contours.ErrNotFound) {
		t.Errorf("Polygons without a helper: %v", err)
	}
}
