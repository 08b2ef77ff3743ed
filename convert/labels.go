package convert

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// ReadLabels reads a YOLO-format label file and returns its objects as
// ground-truth annotations in pixels of a width×height image. The line
// format depends on the task: detect "cls cx cy w h"; segment "cls x1 y1
// x2 y2 …" (a polygon; the box is its extent); pose "cls cx cy w h" then
// keypoints (x y [v]); obb "cls x1 y1 … x4 y4". Coordinates are
// normalized to the image size.
func ReadLabels(path, task string, width, height int, names []string) ([]schemas.AnnotationRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	W, H := float64(width), float64(height)
	var rows []schemas.AnnotationRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		nums := make([]float64, len(fields))
		for i, s := range fields {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s:%d: %q is not a number", path, line, s)
			}
			nums[i] = v
		}
		cls := nums[0]
		if cls != math.Trunc(cls) || cls < 0 || cls > 1e6 {
			return nil, fmt.Errorf("%s:%d: class %q is not a class index", path, line, fields[0])
		}
		row := schemas.AnnotationRow{
			Layer:   schemas.LayerGroundTruth,
			ClassID: int32(cls),
			Label:   className(names, int(cls)),
			Origin:  "labels",
			Index:   int64(len(rows)),
		}
		coords := nums[1:]
		switch {
		case task == "pose" && len(coords) >= 4:
			setCenterBox(&row, coords[:4], W, H)
			kp := coords[4:]
			dim := 3
			if len(kp)%3 != 0 && len(kp)%2 == 0 {
				dim = 2
			}
			for i := 0; i+dim <= len(kp); i += dim {
				row.Keypoints = append(row.Keypoints, kp[i]*W, kp[i+1]*H)
				if dim == 3 {
					row.Keypoints = append(row.Keypoints, kp[i+2])
				}
			}
		case len(coords) == 4 && task != "obb":
			setCenterBox(&row, coords, W, H)
		case len(coords) >= 6 && len(coords)%2 == 0:
			poly := make([]float64, len(coords))
			for i := 0; i < len(coords); i += 2 {
				poly[i], poly[i+1] = coords[i]*W, coords[i+1]*H
			}
			row.Polygons = [][]float64{poly}
			setExtentBox(&row, poly)
		default:
			return nil, fmt.Errorf("%s:%d: %d coordinates fit no label format", path, line, len(coords))
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// setCenterBox sets a box from normalized center, width and height.
func setCenterBox(row *schemas.AnnotationRow, c []float64, W, H float64) {
	x, y, w, h := (c[0]-c[2]/2)*W, (c[1]-c[3]/2)*H, c[2]*W, c[3]*H
	row.BoxX, row.BoxY, row.BoxW, row.BoxH = &x, &y, &w, &h
}

// setExtentBox sets the box to a polygon's extent.
func setExtentBox(row *schemas.AnnotationRow, poly []float64) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i+1 < len(poly); i += 2 {
		x0, x1 = math.Min(x0, poly[i]), math.Max(x1, poly[i])
		y0, y1 = math.Min(y0, poly[i+1]), math.Max(y1, poly[i+1])
	}
	w, h := x1-x0, y1-y0
	row.BoxX, row.BoxY, row.BoxW, row.BoxH = &x0, &y0, &w, &h
}

// className returns a class's name, or "class_<id>" when unknown.
func className(names []string, id int) string {
	if id >= 0 && id < len(names) {
		return names[id]
	}
	return "class_" + strconv.Itoa(id)
}
