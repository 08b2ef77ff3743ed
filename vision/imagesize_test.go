package vision_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/yoloarchive/yoloarchive/vision"
)

func encoded(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestImageSize(t *testing.T) {
	for _, format := range []string{"png", "jpeg", "gif", "bmp"} {
		data := encoded(t, format, 37, 21)
		w, h, mt, err := vision.ImageSize(bytes.NewReader(data))
		if err != nil || w != 37 || h != 21 || mt != "image/"+format {
			t.Errorf("%s: %dx%d %s %v, want 37x21", format, w, h, mt, err)
		}
	}
}

func TestImageFileSize_Bad(t *testing.T) {
	dir := t.TempDir()
	jpg := encoded(t, "jpeg", 64, 48)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.jpg", nil, "0-byte image"},
		{"truncated.jpg", jpg[:20], "truncated.jpg"},
		{"garbage.png", []byte("this is not an image at all"), "unknown format"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.data, 0o644)
		_, _, _, err := vision.ImageFileSize(p)
		if !errors.Is(err, vision.ErrBadImage) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: err = %v, want ErrBadImage naming the file", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, _, _, err := vision.ImageFileSize(filepath.Join(dir, "missing.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func FuzzImageSize(f *testing.F) {
	for _, format := range []string{"png", "jpeg", "gif", "bmp"} {
		f.Add(encoded(f, format, 5, 3))
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("II*\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, _, err := vision.ImageSize(bytes.NewReader(data))
		if err == nil && (w <= 0 || h <= 0) {
			t.Fatalf("accepted size %dx%d", w, h)
		}
		if err != nil && !errors.Is(err, vision.ErrBadImage) {
			t.Fatalf("error does not wrap ErrBadImage: %v", err)
		}
	})
}
