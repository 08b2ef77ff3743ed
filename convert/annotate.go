package convert

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/vision/contours"
	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// predictionBatch is how many predictions are converted together; masks of
// a batch are turned into polygons in parallel.
const predictionBatch = 256

// annotator turns predictions into annotation rows.
type annotator struct {
	mode    string            // category map mode
	names   []string          // class names
	files   map[string]string // image key → dataset-relative file
	workers int
	// contours computes mask polygons; nil keeps masks without them
	// (--no-polygons).
	contours *contours.Helper

	mu       sync.Mutex
	maskErrs int64  // masks that could not be decoded
	firstErr string // the first such error, for the gap note
}

// row converts one prediction. Mask polygons are computed here (the slow
// part); it is safe for concurrent use. A mask that does not decode is
// counted and left without polygons; an error of the contours helper is
// returned.
func (a *annotator) row(ctx context.Context, p *Prediction) (schemas.AnnotationRow, error) {
	cls := classOf(a.mode, p.CategoryID)
	cat := int32(p.CategoryID)
	score := p.Score
	r := schemas.AnnotationRow{
		Image:      p.Image,
		ImageFile:  a.files[p.Image],
		Layer:      schemas.LayerPrediction,
		ClassID:    cls,
		CategoryID: &cat,
		Label:      className(a.names, int(cls)),
		Score:      &score,
		Keypoints:  p.Keypoints,
		RBox:       p.RBox,
		Origin:     "predictions.json",
		Index:      p.Index,
	}
	if r.ImageFile == "" && p.FileName != "" {
		r.ImageFile = p.FileName
	}
	if cls < 0 {
		r.Label = "category_" + itoa(int64(p.CategoryID))
	}
	if len(p.BBox) == 4 {
		x, y, w, h := p.BBox[0], p.BBox[1], p.BBox[2], p.BBox[3]
		r.BoxX, r.BoxY, r.BoxW, r.BoxH = &x, &y, &w, &h
	}
	if len(p.Poly) >= 6 {
		r.Polygons = [][]float64{p.Poly}
		if len(p.BBox) != 4 {
			setExtentBox(&r, p.Poly)
		}
	}
	if p.Segmentation != nil {
		m, err := maskPolygons(ctx, a.contours, p.Segmentation)
		if err != nil && !errors.Is(err, mask.ErrBadRLE) {
			return r, err
		}
		if err != nil {
			a.mu.Lock()
			a.maskErrs++
			if a.firstErr == "" {
				a.firstErr = "prediction " + itoa(p.Index) + ": " + err.Error()
			}
			a.mu.Unlock()
		} else {
			r.MaskRLE, r.MaskHeight, r.MaskWidth = &m.rle, &m.height, &m.width
			r.Polygons = m.polygons
		}
	}
	return r, nil
}

// convert turns a batch of predictions into rows, in order, using up to
// a.workers goroutines when the batch has masks (more when a helper
// computes their polygons: they wait for it, in parallel). The first
// error of the contours helper fails the batch.
func (a *annotator) convert(ctx context.Context, batch []*Prediction) ([]schemas.AnnotationRow, error) {
	out := make([]schemas.AnnotationRow, len(batch))
	workers := a.workers
	switch {
	case batch[0].Segmentation == nil:
		workers = 1 // without masks a row is too cheap to hand to a goroutine
	case a.contours != nil:
		workers = max(workers, 4*runtime.GOMAXPROCS(0))
	}
	// The first failure stops the batch: the rows go into one table.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for i := range batch {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() (err error) {
			out[i], err = a.row(gctx, batch[i])
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
