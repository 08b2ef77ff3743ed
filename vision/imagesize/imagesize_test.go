package imagesize_test

import (
	"bytes"
	"encoding/binary"
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
	"testing/iotest"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/yoloarchive/yoloarchive/vision/imagesize"
)

// encoded returns a w×h image in format, made with the standard encoders
// (WebP has none: webpVP8L writes a lossless header by hand).
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
	case "tiff":
		err = tiff.Encode(&b, img, nil)
	case "webp":
		return webpVP8L(w, h)
	default:
		t.Fatalf("no encoder for %s", format)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpVP8L is the start of a lossless WebP file: the RIFF header and a
// VP8L chunk whose header gives the size (14 bits each for width-1 and
// height-1, then the alpha bit and a 3-bit version).
func webpVP8L(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	chunk := append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, bits)...)
	chunk = append(chunk, make([]byte, 7)...) // the (here empty) image data
	var b []byte
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(chunk)))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(chunk)))
	return append(b, chunk...)
}

var formats = []string{"png", "jpeg", "gif", "bmp", "tiff", "webp"}

func TestRead(t *testing.T) {
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			w, h, mt, err := imagesize.Read(bytes.NewReader(encoded(t, format, 37, 21)))
			if err != nil || w != 37 || h != 21 || mt != "image/"+format {
				t.Errorf("got %dx%d %q, %v; want 37x21 image/%s", w, h, mt, err, format)
			}
		})
	}
	t.Run("Large", func(t *testing.T) {
		w, h, _, err := imagesize.Read(bytes.NewReader(encoded(t, "png", 4000, 3)))
		if err != nil || w != 4000 || h != 3 {
			t.Errorf("got %dx%d, %v; want 4000x3", w, h, err)
		}
	})
	t.Run("OneByteReads", func(t *testing.T) {
		w, h, _, err := imagesize.Read(iotest.OneByteReader(bytes.NewReader(encoded(t, "jpeg", 64, 48))))
		if err != nil || w != 64 || h != 48 {
			t.Errorf("got %dx%d, %v; want 64x48", w, h, err)
		}
	})
}

func TestRead_Bad(t *testing.T) {
	pngData := encoded(t, "png", 64, 48)
	zeroWidth := bytes.Clone(pngData)
	binary.BigEndian.PutUint32(zeroWidth[16:], 0) // IHDR width
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"Empty", nil, "imagesize: bad image: 0-byte image"},
		{"Garbage", []byte("this is not an image at all"), "unknown format (not JPEG, PNG, GIF, BMP, WebP or TIFF)"},
		{"OneByte", []byte{0x89}, "unknown format"},
		{"PNGMagicOnly", pngData[:8], "truncated png header"},
		{"PNGTruncated", pngData[:20], "truncated png header"},
		{"JPEGTruncated", encoded(t, "jpeg", 64, 48)[:20], "truncated jpeg header"},
		{"GIFTruncated", encoded(t, "gif", 64, 48)[:8], "truncated gif header"},
		{"BMPTruncated", encoded(t, "bmp", 64, 48)[:10], "truncated bmp header"},
		{"TIFFTruncated", encoded(t, "tiff", 64, 48)[:6], "tiff header"},
		{"WebPTruncated", webpVP8L(64, 48)[:18], "webp header"},
		{"PNGZeroWidth", zeroWidth, "png header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h, mt, err := imagesize.Read(bytes.NewReader(tc.data))
			if !errors.Is(err, imagesize.ErrBadImage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %dx%d %q, %v; want ErrBadImage saying %q", w, h, mt, err, tc.want)
			}
		})
	}
	t.Run("ReadError", func(t *testing.T) {
		boom := errors.New("boom")
		_, _, _, err := imagesize.Read(iotest.ErrReader(boom))
		if !errors.Is(err, boom) {
			t.Errorf("got %v, want the read error", err)
		}
	})
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("OK", func(t *testing.T) {
		w, h, mt, err := imagesize.File(write("ok.jpg", encoded(t, "jpeg", 64, 48)))
		if err != nil || w != 64 || h != 48 || mt != "image/jpeg" {
			t.Errorf("got %dx%d %q, %v; want 64x48 image/jpeg", w, h, mt, err)
		}
	})
	jpg := encoded(t, "jpeg", 64, 48)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.jpg", nil, "0-byte image"},
		{"truncated.jpg", jpg[:20], "truncated jpeg header"},
		{"garbage.png", []byte("this is not an image at all"), "unknown format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.name, tc.data)
			_, _, _, err := imagesize.File(p)
			if !errors.Is(err, imagesize.ErrBadImage) || !strings.HasPrefix(err.Error(), p+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrBadImage naming %s and saying %q", err, p, tc.want)
			}
		})
	}
	t.Run("Missing", func(t *testing.T) {
		p := filepath.Join(dir, "missing.jpg")
		_, _, _, err := imagesize.File(p)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), p) {
			t.Errorf("got %v, want ErrNotExist naming the file", err)
		}
	})
	t.Run("Directory", func(t *testing.T) {
		_, _, _, err := imagesize.File(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("got %v, want an error naming %s", err, dir)
		}
	})
}

func FuzzImageSize(f *testing.F) {
	for _, format := range formats {
		f.Add(encoded(f, format, 5, 3))
	}
	f.Add([]byte{})
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("II*\x00"))
	f.Add([]byte("MM\x00*"))
	f.Add([]byte("BM"))
	f.Add([]byte("GIF89a"))
	f.Add([]byte("\xff\xd8\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, mt, err := imagesize.Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, imagesize.ErrBadImage) {
				t.Fatalf("error does not wrap ErrBadImage: %v", err)
			}
			return
		}
		if w <= 0 || h <= 0 || !strings.HasPrefix(mt, "image/") {
			t.Fatalf("accepted %dx%d %q", w, h, mt)
		}
	})
}
