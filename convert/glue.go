package convert

import (
	"context"
	"encoding/json"

	"github.com/yoloarchive/yoloarchive/vision/contours"
	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// maskInfo is a segmentation mask's compressed RLE and its polygons.
type maskInfo struct {
	rle           string
	height, width int32
	polygons      [][]float64
}

// maskPolygons decodes a COCO RLE segmentation and, unless helper is nil,
// has the contours helper extract its polygons the way Ultralytics' Comet
// callback does (vision.Polygons). A mask that does not decode gives an
// error wrapping mask.ErrBadRLE; any other error is the helper's.
func maskPolygons(ctx context.Context, helper *contours.Helper, seg json.RawMessage) (maskInfo, error) {
	r, err := mask.DecodeSegmentation(seg)
	if err != nil {
		return maskInfo{}, err
	}
	m := maskInfo{rle: r.String(), height: int32(r.Height), width: int32(r.Width)}
	if helper == nil {
		return m, nil
	}
	polys, err := helper.Polygons(ctx, r)
	if err != nil {
		return maskInfo{}, err
	}
	for _, p := range polys {
		fp := make([]float64, len(p))
		for i, v := range p {
			fp[i] = float64(v)
		}
		m.polygons = append(m.polygons, fp)
	}
	return m, nil
}

// checkMask decodes a COCO RLE segmentation without extracting polygons,
// to find broken masks before anything is written.
func checkMask(seg json.RawMessage) error {
	_, err := mask.DecodeSegmentation(seg)
	return err
}
