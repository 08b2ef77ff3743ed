package vision

import (
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"os"

	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP
)

// ErrBadImage is wrapped by ImageSize errors about the image data.
var ErrBadImage = errors.New("vision: bad image")

// ImageSize reads an image's width, height and media type from its header,
// without decoding the pixels. JPEG, PNG, GIF, BMP, WebP and TIFF are
// known.
func ImageSize(r io.Reader) (width, height int, mediaType string, err error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, 0, "", fmt.Errorf("%w: 0-byte image", ErrBadImage)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, 0, "", fmt.Errorf("%w: truncated header", ErrBadImage)
		}
		return 0, 0, "", fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, "", fmt.Errorf("%w: size %dx%d", ErrBadImage, cfg.Width, cfg.Height)
	}
	return cfg.Width, cfg.Height, "image/" + format, nil
}

// ImageFileSize is [ImageSize] for a file; errors name the file.
func ImageFileSize(path string) (width, height int, mediaType string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return 0, 0, "", fmt.Errorf("%s: %w: 0-byte image", path, ErrBadImage)
	}
	w, h, mt, err := ImageSize(f)
	if err != nil {
		return 0, 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return w, h, mt, nil
}
