package comet_test

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/vision/visiontest"
)

// fakeEnv, set to "serve", makes the test binary the fake Comet server of
// a test that measures the client's heap alone (see serveFake).
const fakeEnv = "YOLOARCHIVE_TEST_COMET_FAKE"

// TestMain makes the test binary its own contours helper (the captures of
// segmentation fixtures need polygons) and its own fake server (fakeEnv).
func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) == "serve" {
		serveFake()
		return
	}
	visiontest.Main(m)
}

// serveFake runs a comettest.Server, writes "URL APIKEY" on one line and
// serves until standard input is closed.
func serveFake() {
	srv := comettest.New()
	fmt.Printf("%s %s\n", srv.URLOverride(), srv.APIKey)
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	os.Exit(0)
}
