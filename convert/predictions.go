package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// ErrBadPredictions is wrapped by the errors ReadPredictions returns.
var ErrBadPredictions = errors.New("convert: bad predictions.json")

// Prediction is one object of a COCO-format predictions.json.
type Prediction struct {
	// Index is the 0-based position in the file.
	Index int64
	// Image is the image_id as text (an integer or a stem).
	Image string
	// FileName is the file_name field (Ultralytics 8.3.188 and later).
	FileName string
	// CategoryID is the raw category_id.
	CategoryID int64
	// BBox is [x, y, w, h], top-left corner (absent for obb).
	BBox []float64
	// Score is the confidence in [0, 1].
	Score float64
	// Segmentation is the raw COCO RLE object, when present.
	Segmentation json.RawMessage
	// Keypoints are flat [x, y, v, …] (pose).
	Keypoints []float64
	// RBox [cx, cy, w, h, angle] and Poly [x1, y1, …, x4, y4] (obb).
	RBox, Poly []float64
}

// wirePrediction is the JSON shape of one prediction.
type wirePrediction struct {
	ImageID      json.RawMessage `json:"image_id"`
	FileName     string          `json:"file_name"`
	CategoryID   *float64        `json:"category_id"`
	BBox         []float64       `json:"bbox"`
	Score        *float64        `json:"score"`
	Segmentation json.RawMessage `json:"segmentation"`
	Keypoints    []float64       `json:"keypoints"`
	RBox         []float64       `json:"rbox"`
	Poly         []float64       `json:"poly"`
}

// ReadPredictions streams a predictions.json array and calls fn for each
// prediction, holding one at a time. name is used in errors, which give the
// index of the bad prediction.
func ReadPredictions(r io.Reader, name string, fn func(*Prediction) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("%s: %w: the file is empty", name, ErrBadPredictions)
		}
		return fmt.Errorf("%s: %w: %v", name, ErrBadPredictions, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s: %w: not a JSON array", name, ErrBadPredictions)
	}
	var idx int64
	for dec.More() {
		var w wirePrediction
		if err := dec.Decode(&w); err != nil {
			return fmt.Errorf("%s: prediction %d: %w: %v", name, idx, ErrBadPredictions, err)
		}
		p, err := w.prediction(idx)
		if err != nil {
			return fmt.Errorf("%s: prediction %d: %w: %v", name, idx, ErrBadPredictions, err)
		}
		if err := fn(p); err != nil {
			return err
		}
		idx++
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: %w: the array is not closed (truncated file?): %v", name, ErrBadPredictions, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: %w: data after the array", name, ErrBadPredictions)
	}
	return nil
}

func (w *wirePrediction) prediction(idx int64) (*Prediction, error) {
	p := &Prediction{Index: idx, FileName: w.FileName, BBox: w.BBox, Keypoints: w.Keypoints, RBox: w.RBox, Poly: w.Poly}
	var id any
	if err := json.Unmarshal(w.ImageID, &id); err != nil || len(w.ImageID) == 0 {
		return nil, errors.New("missing image_id")
	}
	switch v := id.(type) {
	case float64:
		if v != math.Trunc(v) {
			return nil, fmt.Errorf("image_id %v is not an integer", v)
		}
		p.Image = strconv.FormatInt(int64(v), 10)
	case string:
		if v == "" {
			return nil, errors.New("empty image_id")
		}
		p.Image = v
	default:
		return nil, errors.New("image_id is neither a number nor a string")
	}
	if w.CategoryID == nil || *w.CategoryID != math.Trunc(*w.CategoryID) || *w.CategoryID < 0 || *w.CategoryID > 1e9 {
		return nil, errors.New("missing or bad category_id")
	}
	p.CategoryID = int64(*w.CategoryID)
	if w.Score == nil || math.IsNaN(*w.Score) {
		return nil, errors.New("missing score")
	}
	p.Score = *w.Score
	if len(p.BBox) != 0 && len(p.BBox) != 4 {
		return nil, fmt.Errorf("bbox has %d numbers, want 4", len(p.BBox))
	}
	if len(p.RBox) != 0 && len(p.RBox) != 5 {
		return nil, fmt.Errorf("rbox has %d numbers, want 5", len(p.RBox))
	}
	if len(p.Poly)%2 != 0 {
		return nil, fmt.Errorf("poly has an odd number of coordinates")
	}
	if seg := bytes.TrimSpace(w.Segmentation); len(seg) > 0 && !bytes.Equal(seg, []byte("null")) {
		p.Segmentation = w.Segmentation
	}
	return p, nil
}

// PredictionStats summarizes a predictions.json, from a first pass.
type PredictionStats struct {
	Count           int64
	Categories      map[int64]int64 // category_id → count
	Images          map[string]bool
	HasFileName     bool
	HasSegmentation bool
	// Masks counts the predictions with a segmentation.
	Masks        int64
	HasKeypoints bool
	HasOBB       bool
	// BadMasks counts segmentations that do not decode; FirstBadMask
	// describes the first.
	BadMasks     int64
	FirstBadMask string
}

// statPredictions reads predictions.json once to learn what it holds.
func statPredictions(r io.Reader, name string) (*PredictionStats, error) {
	st := &PredictionStats{Categories: map[int64]int64{}, Images: map[string]bool{}}
	err := ReadPredictions(r, name, func(p *Prediction) error {
		st.Count++
		st.Categories[p.CategoryID]++
		st.Images[p.Image] = true
		st.HasFileName = st.HasFileName || p.FileName != ""
		st.HasSegmentation = st.HasSegmentation || p.Segmentation != nil
		st.HasKeypoints = st.HasKeypoints || len(p.Keypoints) > 0
		st.HasOBB = st.HasOBB || len(p.RBox) > 0
		if p.Segmentation != nil {
			st.Masks++
			if err := checkMask(p.Segmentation); err != nil {
				st.BadMasks++
				if st.FirstBadMask == "" {
					st.FirstBadMask = fmt.Sprintf("prediction %d (image %s): %v", p.Index, p.Image, err)
				}
			}
		}
		return nil
	})
	return st, err
}

// Category map modes: how Ultralytics turned class indices into
// category_id (ultralytics-runs.md §6.3).
const (
	CategoriesZeroBased = "0-based" // 8.0.x – 8.3.48, non-COCO data
	CategoriesOneBased  = "1-based" // 8.3.49+, non-COCO data
	CategoriesCOCO91    = "coco91"  // COCO val2017 / test-dev2017
)

// coco80to91 maps a YOLO COCO class index to its COCO category id.
var coco80to91 = []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31,
	32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
	62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90}

// categoryMode decides how category ids map back to class indices: by the
// dataset (COCO val2017), by the version when it is known on the right
// side of 8.3.49, and else by the ids themselves. It returns the mode and
// the reason.
func categoryMode(st *PredictionStats, vr *versionRange, cocoVal bool, nc int) (string, string) {
	if cocoVal {
		return CategoriesCOCO91, "the dataset is COCO val2017: ids follow coco80_to_coco91_class"
	}
	if vr.from(version{8, 3, 49}) {
		return CategoriesOneBased, "Ultralytics 8.3.49 or later writes category_id = class + 1"
	}
	if vr.before(version{8, 3, 49}) {
		return CategoriesZeroBased, "Ultralytics before 8.3.49 writes category_id = class"
	}
	ids := make([]int64, 0, len(st.Categories))
	for id := range st.Categories {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	switch {
	case len(ids) > 0 && ids[0] == 0:
		return CategoriesZeroBased, "the ids include 0, so they are 0-based"
	case nc > 0 && len(ids) > 0 && ids[len(ids)-1] == int64(nc):
		return CategoriesOneBased, fmt.Sprintf("the ids reach %d = number of classes, so they are 1-based", nc)
	}
	return CategoriesOneBased, "assumed 1-based (the version is unknown and the ids do not tell)"
}

// classOf maps a category id to a 0-based class index, or -1.
func classOf(mode string, cat int64) int32 {
	switch mode {
	case CategoriesZeroBased:
		return int32(cat)
	case CategoriesOneBased:
		return int32(cat - 1)
	case CategoriesCOCO91:
		for i, c := range coco80to91 {
			if c == cat {
				return int32(i)
			}
		}
	}
	return -1
}
