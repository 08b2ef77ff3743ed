// Package visiontest lets a package's test binary serve as the contours
// helper, with the real OpenCV polygons (vision.Polygons), so that tests
// that capture segmentation masks need no helper built beforehand:
//
//	func TestMain(m *testing.M) { visiontest.Main(m) }
//
// When $YOLOARCHIVE_CONTOURS is already set (make test sets it to the
// built cmd/yoloarchive-contours), that helper is used instead.
package visiontest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/contours"
)

// envServe makes the test binary the helper. Only the helper's own
// environment has it (see Setup): copies of the test binary that the tests
// start themselves, such as go test's fuzzing workers, must run tests.
const envServe = "YOLOARCHIVE_TEST_SERVE_CONTOURS"

// Main runs the tests, or, started as the helper, serves polygons on
// stdin and stdout. It does not return.
func Main(m *testing.M) {
	cleanup := Setup()
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// Setup is Main for a TestMain that does more: called first, it serves
// polygons and exits when the test binary was started as the helper, and
// otherwise makes the test binary the helper of the tests (unless
// $YOLOARCHIVE_CONTOURS names one), through a script that starts it with
// $YOLOARCHIVE_TEST_SERVE_CONTOURS=1. Call the cleanup it returns (which
// removes the script) after the tests.
func Setup() (cleanup func()) {
	if os.Getenv(envServe) == "1" {
		if err := contours.Serve(os.Stdin, os.Stdout, "test binary", vision.Polygons); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(contours.EnvPath) != "" {
		return func() {}
	}
	exe, err := os.Executable()
	if err == nil {
		var dir string
		if dir, err = os.MkdirTemp("", "visiontest-"); err == nil {
			script := filepath.Join(dir, contours.Name)
			quoted := "'" + strings.ReplaceAll(exe, "'", `'\''`) + "'"
			if err = os.WriteFile(script, []byte("#!/bin/sh\n"+envServe+"=1 exec "+quoted+" \"$@\"\n"), 0o755); err == nil {
				os.Setenv(contours.EnvPath, script)
				return func() { os.RemoveAll(dir) }
			}
			os.RemoveAll(dir)
		}
	}
	fmt.Fprintln(os.Stderr, "visiontest:", err)
	os.Exit(1)
	return nil
}
