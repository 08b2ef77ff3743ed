package convert_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

func TestReadCheckpoint(t *testing.T) {
	ckpt, err := convert.ReadCheckpoint("../testdata/checkpoints/autobatch.pt")
	if err != nil {
		t.Fatal(err)
	}
	if ckpt.Version != "8.3.166" || ckpt.Date != "2025-07-10T12:34:56.789012" {
		t.Errorf("version %q date %q", ckpt.Version, ckpt.Date)
	}
	if got := ckpt.TrainArgs["batch"]; got != int64(24) {
		t.Errorf("train_args batch = %v (%T), want 24", got, got)
	}
	if got := ckpt.TrainArgs["lr0"]; got != 0.01 {
		t.Errorf("train_args lr0 = %v", got)
	}
	if got := ckpt.TrainArgs["task"]; got != "detect" {
		t.Errorf("train_args task = %v", got)
	}
	if got := ckpt.TrainMetrics["val/box_loss"]; got != 3.91676 {
		t.Errorf("train_metrics val/box_loss = %v", got)
	}
}

func TestReadCheckpoint_Bad(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("../testdata/checkpoints/best.pt")
	for name, data := range map[string][]byte{
		"empty.pt":     nil,
		"random.pt":    []byte("not a zip file at all, just bytes"),
		"truncated.pt": good[:len(good)/2],
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		if _, err := convert.ReadCheckpoint(p); !errors.Is(err, convert.ErrBadCheckpoint) {
			t.Errorf("%s: err = %v, want ErrBadCheckpoint", name, err)
		}
	}
}
