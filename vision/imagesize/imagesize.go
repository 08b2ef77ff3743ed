// Package imagesize reads an image's width, height and media type from its
// file header (JPEG, PNG, GIF, BMP, WebP, TIFF) without decoding pixels.
package imagesize

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"os"
	"strings"

	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP
)

// ErrBadImage is wrapped by the errors of [Read] and [File] about the
// image data.
var ErrBadImage = errors.New("imagesize: bad image")

// Read reads an image's width, height and media type ("image/jpeg",
// "image/png", "image/gif", "image/bmp", "image/webp" or "image/tiff")
// from its header, without decoding the pixels.
func Read(r io.Reader) (width, height int, mediaType string, err error) {
	br := bufio.NewReader(r)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, 0, "", fmt.Errorf("%w: 0-byte image", ErrBadImage)
		}
		return 0, 0, "", fmt.Errorf("imagesize: reading image: %w", err)
	}
	cfg, format, err := image.DecodeConfig(br)
	switch {
	case errors.Is(err, image.ErrFormat):
		return 0, 0, "", fmt.Errorf("%w: unknown format (not JPEG, PNG, GIF, BMP, WebP or TIFF)", ErrBadImage)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		err != nil && strings.HasSuffix(err.Error(), io.ErrUnexpectedEOF.Error()): // image/gif flattens it
		return 0, 0, "", fmt.Errorf("%w: truncated %s header", ErrBadImage, format)
	case err != nil:
		return 0, 0, "", fmt.Errorf("%w: %s header: %v", ErrBadImage, format, err)
	case cfg.Width <= 0 || cfg.Height <= 0:
		return 0, 0, "", fmt.Errorf("%w: %s header gives size %dx%d", ErrBadImage, format, cfg.Width, cfg.Height)
	}
	return cfg.Width, cfg.Height, "image/" + format, nil
}

// File is [Read] for the file at path; errors name the file.
func File(path string) (width, height int, mediaType string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, "", err // *fs.PathError names the file
	}
	defer f.Close()
	w, h, mt, err := Read(f)
	if err != nil {
		return 0, 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return w, h, mt, nil
}
