// Command yoloarchive-contours is the contours helper of yoloarchive: the
// one program of the project that links OpenCV (through gocv). yoloarchive
// starts it when a capture needs the polygons of segmentation masks and
// talks to it over stdin and stdout (package vision/contours describes the
// protocol); it is not meant to be run by hand.
//
// Install it beside the yoloarchive binary (or on PATH, or name it in
// $YOLOARCHIVE_CONTOURS). It needs the OpenCV 4.6 libraries it was built
// against (Debian bookworm: libopencv-imgproc406); --version prints the
// OpenCV it runs with.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"gocv.io/x/gocv"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/contours"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = ""

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "--version", "-version", "version":
			fmt.Printf("%s %s\n", contours.Name, describe())
			return
		}
		fmt.Fprintf(os.Stderr, "usage: %s [--version]\n\nThe contours helper of yoloarchive: it reads masks on stdin and writes their\npolygons on stdout. yoloarchive starts it; it is not meant to be run by hand.\n", contours.Name)
		os.Exit(2)
	}
	if err := contours.Serve(os.Stdin, os.Stdout, describe(), vision.Polygons); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", contours.Name, err)
		os.Exit(1)
	}
}

// describe is the helper's version, protocol and OpenCV version.
func describe() string {
	v := Version
	if v == "" {
		v = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("%s (protocol %d, OpenCV %s)", v, contours.ProtocolVersion, gocv.OpenCVVersion())
}
