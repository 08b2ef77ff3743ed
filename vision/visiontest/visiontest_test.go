package visiontest_test

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision"
	"github.com/yoloarchive/yoloarchive/vision/contours"
	"github.com/yoloarchive/yoloarchive/vision/mask"
	"github.com/yoloarchive/yoloarchive/vision/masktest"
	"github.com/yoloarchive/yoloarchive/vision/visiontest"
)

func TestMain(m *testing.M) { visiontest.Main(m) }

// TestMain_ChildrenRunTests: a copy of the test binary that the tests
// start with their environment (as go test's fuzzing workers are) runs
// tests; only the helper the contours client starts serves polygons.
func TestMain_ChildrenRunTests(t *testing.T) {
	if os.Getenv("VISIONTEST_CHILD") == "1" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestMain_ChildrenRunTests$", "-test.v")
	cmd.Env = append(os.Environ(), "VISIONTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestMain_ChildrenRunTests") {
		t.Errorf("the child ran no test (err %v):\n%s", err, out)
	}
}

// TestMain_Helper: the helper visiontest sets up answers the polygons of
// vision.Polygons.
func TestMain_Helper(t *testing.T) {
	h := contours.FromEnv()
	defer h.Close()
	r := mask.Encode(48, 64, masktest.Of(48, 64, masktest.Ellipse(30, 20, 14, 9)))
	got, err := h.Polygons(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	want, err := vision.Polygons(r)
	if err != nil || len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("helper %v, in process %v (%v)", got, want, err)
	}
}
