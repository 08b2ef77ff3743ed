package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"
)

// maskInfo is a segmentation mask's compressed RLE and its polygons.
type maskInfo struct {
	rle           string
	height, width int32
	polygons      [][]float64
}

// maskPolygons decodes a COCO RLE segmentation and extracts its polygons
// the way Ultralytics' Comet callback does.
var maskPolygons = func(seg json.RawMessage) (maskInfo, error) {
	return maskInfo{}, errors.New("vision not wired")
}

// imageSize reads an image's size from its header.
var imageSize = func(path string) (w, h int, mediaType string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, "", err
	}
	defer f.Close()
	st, _ := f.Stat()
	if st != nil && st.Size() == 0 {
		return 0, 0, "", fmt.Errorf("%s: 0-byte image", path)
	}
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, "", fmt.Errorf("%s: %v", path, err)
	}
	return cfg.Width, cfg.Height, "image/" + format, nil
}
