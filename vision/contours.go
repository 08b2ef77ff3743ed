package vision

import (
	"fmt"
	"sync"

	"gocv.io/x/gocv"

	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// Polygons returns the outlines of a mask as Ultralytics' Comet callback
// computes them for segmentation predictions:
//
//	mask = pycocotools.mask.decode(rle)
//	contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
//	points = [c.flatten().tolist() for c in contours if len(c) >= 3]
//
// Each polygon is a flat [x1, y1, x2, y2, …] list of pixel coordinates
// (int32: masks are at most [mask.MaxMaskPixels] big), in OpenCV's order, each
// starting where OpenCV starts it and running in its direction. Holes are
// polygons of their own (RETR_LIST has no hierarchy); contours of fewer
// than 3 points (single pixels, 2-point lines) are dropped. A mask with no
// foreground has no polygons (nil).
//
// Only the bounding box of the foreground is decoded and handed to OpenCV.
// OpenCV 4 pads its input with a one-pixel zero border before following
// borders, so the contours of the crop, shifted back, are exactly those of
// the whole mask (the tests check this on many masks), at a fraction of the
// cost for the usual small object on a large image.
func Polygons(r mask.RLE) ([][]int32, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b := r.Bounds()
	if b.Empty() {
		return nil, nil
	}
	buf := getBuffer(b.Dx() * b.Dy())
	defer putBuffer(buf)
	r.CropInto(b, buf)
	img, err := gocv.NewMatFromBytes(b.Dy(), b.Dx(), gocv.MatTypeCV8UC1, buf) // no copy
	if err != nil {
		return nil, fmt.Errorf("vision: mask crop %dx%d: %w", b.Dy(), b.Dx(), err)
	}
	defer img.Close() // before putBuffer: img uses buf
	return contours(img, b.X0, b.Y0), nil
}

// PolygonsFromMask is [Polygons] for a row-major h×w mask whose non-zero
// bytes are foreground. The whole mask goes to OpenCV.
func PolygonsFromMask(h, w int, pixels []byte) ([][]int32, error) {
	if err := mask.CheckSize(h, w); err != nil {
		return nil, err
	}
	if len(pixels) != h*w {
		return nil, fmt.Errorf("%w: mask of %d bytes is not %dx%d", mask.ErrBadRLE, len(pixels), h, w)
	}
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, pixels) // no copy
	if err != nil {
		return nil, fmt.Errorf("vision: mask %dx%d: %w", h, w, err)
	}
	defer m.Close() // m keeps pixels alive until here
	return contours(m, 0, 0), nil
}

// contours runs findContours(RETR_LIST, CHAIN_APPROX_SIMPLE) on an 8-bit
// image, keeps the contours of 3 or more points and shifts them by (dx,
// dy).
func contours(img gocv.Mat, dx, dy int) [][]int32 {
	cs := gocv.FindContours(img, gocv.RetrievalList, gocv.ChainApproxSimple)
	defer cs.Close()
	var out [][]int32
	for i, nc := 0, cs.Size(); i < nc; i++ {
		pv := cs.At(i) // a view into cs: not closed on its own
		n := pv.Size()
		if n < 3 {
			continue
		}
		poly := make([]int32, 2*n)
		for j := 0; j < n; j++ { // pv.ToPoints would ask for the size each time
			p := pv.At(j)
			poly[2*j], poly[2*j+1] = int32(p.X+dx), int32(p.Y+dy)
		}
		out = append(out, poly)
	}
	return out
}

// buffers recycles crop buffers between calls.
var buffers sync.Pool

// getBuffer returns n zeroed bytes.
func getBuffer(n int) []byte {
	if p, ok := buffers.Get().(*[]byte); ok && cap(*p) >= n {
		b := (*p)[:n]
		clear(b)
		return b
	}
	return make([]byte, n)
}

// putBuffer keeps b for reuse unless it is large (over 4 MiB).
func putBuffer(b []byte) {
	if cap(b) <= 4<<20 {
		buffers.Put(&b)
	}
}
