package restore_test

import (
	"testing"

	"github.com/yoloarchive/yoloarchive/vision/visiontest"
)

// TestMain makes the test binary its own contours helper (the captures of
// segmentation fixtures need polygons).
func TestMain(m *testing.M) { visiontest.Main(m) }
