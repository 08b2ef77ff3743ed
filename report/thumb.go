package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // PNG plots and images

	"golang.org/x/image/draw"
)

// rendition is one image as the page shows it: a data URI and its size.
type rendition struct {
	URI  string `json:"src"`
	W    int    `json:"w"`
	H    int    `json:"h"`
	Size int    `json:"-"`
}

// renditions makes the thumbnail (at most thumbPx on its long side) and
// the full-size view (the stored bytes when small enough, else at most
// fullPx on its long side) of a JPEG or PNG. maxPixels bounds the size
// decoded, read from the image header first.
func renditions(data []byte, mediaType string, thumbPx, fullPx, keepBytes int, maxPixels int64) (thumb, full rendition, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return thumb, full, fmt.Errorf("read image header: %w", err)
	}
	if format != "jpeg" && format != "png" {
		return thumb, full, fmt.Errorf("image format %s is not JPEG or PNG", format)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return thumb, full, fmt.Errorf("image of %dx%d pixels is over the budget of %d pixels", cfg.Width, cfg.Height, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return thumb, full, fmt.Errorf("decode image: %w", err)
	}
	if thumb, err = scaled(img, thumbPx, 72); err != nil {
		return thumb, full, err
	}
	long := max(cfg.Width, cfg.Height)
	if long <= fullPx && len(data) <= keepBytes {
		if mediaType == "" {
			mediaType = "image/" + format
		}
		full = rendition{URI: dataURI(mediaType, data), W: cfg.Width, H: cfg.Height, Size: len(data)}
		return thumb, full, nil
	}
	full, err = scaled(img, fullPx, 85)
	return thumb, full, err
}

// scaled downscales img to at most px on its long side (never up) and
// encodes it as JPEG at quality q, on white where it is transparent.
func scaled(img image.Image, px, q int) (rendition, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if long := max(w, h); long > px {
		w, h = max(1, w*px/long), max(1, h*px/long)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// White under transparent pixels, as a browser shows them on the page.
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: q}); err != nil {
		return rendition{}, fmt.Errorf("encode thumbnail: %w", err)
	}
	return rendition{URI: dataURI("image/jpeg", buf.Bytes()), W: w, H: h, Size: buf.Len()}, nil
}

func dataURI(mediaType string, data []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(data)
}
