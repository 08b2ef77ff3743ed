package vision_test

// An independent, pure-Go implementation of OpenCV 4.6's findContours with
// RETR_LIST and CHAIN_APPROX_SIMPLE (Suzuki & Abe border following as
// written in OpenCV's contours.cpp: cvFindNextContour and
// icvFetchContour), used only to check the gocv results.

// refCodeDeltas are OpenCV's chain-code directions: 0 = +x, then
// counter-clockwise on screen (y grows downwards).
var refCodeDeltas = [8][2]int{{1, 0}, {1, -1}, {0, -1}, {-1, -1}, {-1, 0}, {-1, 1}, {0, 1}, {1, 1}}

// refContour is one border: its points, flat, and whether it is the
// inner border of a hole.
type refContour struct {
	pts  []int32
	hole bool
}

// refContours returns the contours of a row-major h×w mask (non-zero =
// foreground) in OpenCV's output order.
func refContours(h, w int, mask []byte) []refContour {
	W := w + 2 // OpenCV pads the image with a one-pixel zero border
	img := make([]int8, (h+2)*W)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if mask[y*w+x] != 0 {
				img[(y+1)*W+x+1] = 1
			}
		}
	}
	var deltas [16]int
	for i, d := range refCodeDeltas {
		deltas[i] = d[1]*W + d[0]
		deltas[i+8] = deltas[i]
	}
	var found []refContour
	for y := 1; y <= h; y++ {
		prev := int8(0)
		for x := 1; x <= w; x++ {
			p := img[y*W+x]
			if p == prev {
				continue
			}
			isHole := false
			switch {
			case prev == 0 && p == 1:
			case p == 0 && prev >= 1:
				isHole = true
			default:
				prev = p
				continue
			}
			sx := x
			if isHole {
				sx = x - 1
			}
			found = append(found, refContour{refFetch(img, W, deltas, sx, y, isHole), isHole})
			prev = img[y*W+x] // the scan resumes after the start, rereading marks
			if isHole {
				prev = p
			}
		}
	}
	// cvInsertNodeIntoTree prepends each contour: the last found comes first.
	for i, j := 0, len(found)-1; i < j; i, j = i+1, j-1 {
		found[i], found[j] = found[j], found[i]
	}
	return found
}

// refFetch follows one border from (x, y) as icvFetchContour does with
// CHAIN_APPROX_SIMPLE, marking the image, and returns its points in the
// unpadded frame.
func refFetch(img []int8, W int, deltas [16]int, x, y int, hole bool) []int32 {
	const nbd = int8(2)
	i0 := y*W + x
	px, py := x-1, y-1
	s, sEnd := 4, 4
	if hole {
		s, sEnd = 0, 0
	}
	var i1 int
	for {
		s = (s - 1) & 7
		i1 = i0 + deltas[s]
		if img[i1] != 0 || s == sEnd {
			break
		}
	}
	if s == sEnd { // a single pixel
		img[i0] = nbd | -128
		return []int32{int32(px), int32(py)}
	}
	var pts []int32
	i3 := i0
	prevS := s ^ 4
	for {
		sEnd = s
		var i4 int
		for s < 15 {
			s++
			i4 = i3 + deltas[s]
			if img[i4] != 0 {
				break
			}
		}
		s &= 7
		if uint(s-1) < uint(sEnd) {
			img[i3] = nbd | -128
		} else if img[i3] == 1 {
			img[i3] = nbd
		}
		if s != prevS {
			pts = append(pts, int32(px), int32(py))
			prevS = s
		}
		px += refCodeDeltas[s][0]
		py += refCodeDeltas[s][1]
		if i4 == i0 && i3 == i1 {
			break
		}
		i3 = i4
		s = (s + 4) & 7
	}
	return pts
}

// refPolygons keeps the contours of 3 or more points, as Ultralytics does.
func refPolygons(h, w int, mask []byte) [][]int32 {
	var out [][]int32
	for _, c := range refContours(h, w, mask) {
		if len(c.pts) >= 6 {
			out = append(out, c.pts)
		}
	}
	return out
}

// refHoles counts the hole borders of 3 or more points.
func refHoles(h, w int, mask []byte) int {
	n := 0
	for _, c := range refContours(h, w, mask) {
		if c.hole && len(c.pts) >= 6 {
			n++
		}
	}
	return n
}
