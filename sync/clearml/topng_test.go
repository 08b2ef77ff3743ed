package clearml

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
)

// hugeJPEG returns a small JPEG whose header claims width×height: its
// decoder would allocate width×height×1.5 bytes before finding the data
// short.
func hugeJPEG(t *testing.T, width, height uint16) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	i := bytes.Index(data, []byte{0xff, 0xc0}) // SOF0: len(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	data[i+5], data[i+6] = byte(height>>8), byte(height)
	data[i+7], data[i+8] = byte(width>>8), byte(width)
	return data
}

func TestToPNG_PixelBudget(t *testing.T) {
	small, err := archive.ParseBudget("pixels=4096")
	if err != nil {
		t.Fatal(err)
	}
	var ok bytes.Buffer
	jpeg.Encode(&ok, image.NewGray(image.Rect(0, 0, 64, 64)), nil)
	if _, err := toPNG(bytes.NewReader(ok.Bytes()), small); err != nil {
		t.Fatalf("64×64 under pixels=4096: %v", err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"65x65", hugeJPEG(t, 65, 65)},
		{"65000x65000", hugeJPEG(t, 65000, 65000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := toPNG(bytes.NewReader(tc.data), small)
			if !errors.Is(err, archive.ErrOverBudget) || !strings.Contains(err.Error(), "--budget pixels=") {
				t.Fatalf("err = %v, want ErrOverBudget naming --budget pixels=", err)
			}
		})
	}
	// The default budget refuses the 65000×65000 plot before decoding it.
	if _, err := toPNG(bytes.NewReader(hugeJPEG(t, 65000, 65000)), archive.Limits{}); !errors.Is(err, archive.ErrOverBudget) {
		t.Fatalf("default budget: err = %v, want ErrOverBudget", err)
	}
}
