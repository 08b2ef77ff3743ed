package main

import (
	"testing"

	"github.com/yoloarchive/yoloarchive/vision/visiontest"
)

// TestMain makes the test binary its own contours helper (the captures of
// segmentation fixtures need polygons), unless $YOLOARCHIVE_CONTOURS names
// one.
func TestMain(m *testing.M) { visiontest.Main(m) }
