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
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/contours"
)

// envServe makes the test binary the helper.
const envServe = "YOLOARCHIVE_TEST_SERVE_CONTOURS"

// Main runs the tests, or, started as the helper, serves polygons on
// stdin and stdout. It does not return.
func Main(m *testing.M) {
	Setup()
	os.Exit(m.Run())
}

// Setup is Main for a TestMain that does more: called first, it serves
// polygons and exits when the test binary was started as the helper, and
// otherwise makes the test binary the helper of the tests (unless
// $YOLOARCHIVE_CONTOURS names one) and returns.
func Setup() {
	if os.Getenv(envServe) == "1" {
		if err := contours.Serve(os.Stdin, os.Stdout, "test binary", vision.Polygons); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(contours.EnvPath) == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "visiontest:", err)
			os.Exit(1)
		}
		os.Setenv(contours.EnvPath, exe)
		os.Setenv(envServe, "1")
	}
}
