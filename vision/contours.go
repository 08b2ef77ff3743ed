package vision

import (
	"fmt"

	"gocv.io/x/gocv"
)

// Polygons returns the outlines of a mask as Ultralytics' Comet callback
// computes them for image predictions:
//
//	contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
//	points = [c.flatten().tolist() for c in contours if len(c) >= 3]
//
// Each polygon is a flat [x1, y1, x2, y2, …] list of pixel coordinates, in
// OpenCV's order (holes are separate polygons). An empty mask has none.
//
// Only the bounding box of the mask's pixels is handed to OpenCV, which
// pads its input with a zero border, so the result equals that of the full
// mask at a fraction of the cost for small objects on large images.
func Polygons(r RLE) ([][]int32, error) {
	b := r.Bounds()
	if b.Empty() {
		return nil, nil
	}
	return polygons(r.Crop(b), b.Y1-b.Y0, b.X1-b.X0, b.X0, b.Y0)
}

// PolygonsFromMask is [Polygons] for a row-major h×w mask whose non-zero
// bytes are foreground.
func PolygonsFromMask(h, w int, mask []byte) ([][]int32, error) {
	if h <= 0 || w <= 0 || len(mask) != h*w {
		return nil, fmt.Errorf("vision: mask of %d bytes is not %dx%d", len(mask), h, w)
	}
	return polygons(mask, h, w, 0, 0)
}

// polygons runs OpenCV on a row-major mask and shifts the points by the
// offset of the mask in its image.
func polygons(mask []byte, h, w, offX, offY int) ([][]int32, error) {
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, mask)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	defer m.Close()
	cs := gocv.FindContours(m, gocv.RetrievalList, gocv.ChainApproxSimple)
	defer cs.Close()
	var out [][]int32
	for i := 0; i < cs.Size(); i++ {
		pv := cs.At(i) // owned by cs
		n := pv.Size()
		if n < 3 {
			continue
		}
		poly := make([]int32, 0, 2*n)
		for _, p := range pv.ToPoints() {
			poly = append(poly, int32(p.X+offX), int32(p.Y+offY))
		}
		out = append(out, poly)
	}
	return out, nil
}
