package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/vision/contours"
	"github.com/yoloarchive/yoloarchive/vision/imagesize"
)

// resolveDataset finds the run's dataset and reads from it the class
// names, the training image count and the validation images' sizes.
func (r *Run) resolveDataset(args *Params) {
	row := &r.Info
	spec := r.opts.Data
	if spec != "" {
		row.Dataset = spec
	} else {
		spec = row.Dataset
	}
	if row.SourceKind == schemas.SourceYOLOv5Train && spec == "" {
		if args != nil {
			spec = args.String("data")
			row.Dataset = spec
		}
	}
	// The run's own data setting, unlike --data, is a claim of the run
	// directory: a hostile args.yaml must not make the capture read
	// ~/.aws/credentials as a dataset yaml.
	d, err := resolveDataset(spec, r.Source, r.opts.Data == "")
	if err != nil {
		r.gap(schemas.GapDataset, err.Error(), "capture again with --data DATA.yaml pointing at the dataset")
		r.gap(schemas.GapClassNames, "class names come from the dataset, which did not resolve: labels are class_<id>", "capture again with --data DATA.yaml")
		if row.Mode == "train" {
			r.gap(schemas.GapTrainImageCount, "the number of training images (Comet's step = epoch × images ÷ batch) needs the dataset",
				"capture again with --data DATA.yaml")
		}
		return
	}
	r.Dataset = d
	row.DatasetResolved = true
	row.ClassNames = d.Names
	for _, n := range d.Notes {
		r.warn("dataset: " + n)
	}
	if d.Train != nil {
		fraction := 1.0
		if f, ok := args.Float("fraction"); ok {
			fraction = f
		}
		n := trainImageCount(len(d.Train), fraction)
		row.TrainImages = &n
	} else if row.Mode == "train" {
		r.gap(schemas.GapTrainImageCount, "the dataset's train split did not resolve", "capture again with --data DATA.yaml")
	}
	if d.Classify {
		return
	}
	for _, p := range d.Val {
		w, h, mt, err := imagesize.File(p)
		if err != nil {
			r.warn(fmt.Sprintf("%v (dataset image left out)", err))
			continue
		}
		r.valImages = append(r.valImages, valImage{path: p, rel: d.Rel(p), key: ImageKey(p), width: w, height: h, mediaType: mt})
	}
}

// readPredictions reads predictions.json's statistics, decides how its
// category ids map to classes, and picks the dataset images to store.
func (r *Run) readPredictions(ctx context.Context, vr *versionRange) error {
	if r.predictions == "" {
		return nil
	}
	f, err := r.dir.open(r.predictions)
	if err != nil {
		return err
	}
	if !r.opts.NoPolygons && firstHasMask(f) {
		// Start the helper now: OpenCV loads while the statistics are
		// read. A failure to start is reported by planPolygons.
		r.opts.Contours.Start()
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	st, err := statPredictions(f, r.dir.path(r.predictions))
	f.Close()
	if err != nil {
		return err
	}
	r.predStats = st
	if st.BadMasks > 0 && !r.opts.SkipBadMasks {
		return fmt.Errorf("%s: %d segmentation masks do not decode, first %s: pass --skip-bad-masks to capture the run without their polygons",
			r.dir.path(r.predictions), st.BadMasks, st.FirstBadMask)
	}
	if st.Count > 0 {
		if st.HasFileName {
			vr.atLeast(version{8, 3, 188}, "predictions.json has file_name")
		} else {
			vr.atMost(version{8, 3, 187}, "predictions.json has no file_name")
		}
	}
	if r.Info.Task == "detect" && r.Info.Mode == "val" {
		switch {
		case st.HasSegmentation:
			r.Info.Task = "segment"
		case st.HasKeypoints:
			r.Info.Task = "pose"
		case st.HasOBB:
			r.Info.Task = "obb"
		}
	}
	cocoVal := r.Dataset != nil && isCOCOVal(r.Dataset)
	mode, why := categoryMode(st, vr, cocoVal, len(r.Info.ClassNames))
	r.Info.VersionEvidence = append(r.Info.VersionEvidence, "predictions.json category_id: "+mode+" ("+why+")")
	byKey := map[string]string{} // image key → dataset-relative file; the first of equal stems wins
	for _, v := range r.valImages {
		if _, dup := byKey[v.key]; !dup {
			byKey[v.key] = v.rel
		}
	}
	r.annot = &annotator{mode: mode, names: r.Info.ClassNames, files: byKey, workers: r.opts.Workers}
	if err := r.planPolygons(st); err != nil {
		return err
	}
	r.pickDatasetImages(ctx)
	return ctx.Err()
}

// firstHasMask reports whether the first prediction read from f has a
// segmentation mask.
func firstHasMask(f io.Reader) bool {
	has := false
	stop := errors.New("stop")
	ReadPredictions(f, "", func(p *Prediction) error {
		has = p.Segmentation != nil
		return stop
	})
	return has
}

// planPolygons decides how the masks of predictions.json get their
// polygons: from the contours helper, started now so that its start
// overlaps the rest of the capture, or not at all with --no-polygons,
// which records a gap. A missing helper is an error that says what to do.
func (r *Run) planPolygons(st *PredictionStats) error {
	good := st.Masks - st.BadMasks
	if good == 0 {
		return nil
	}
	if r.opts.NoPolygons {
		r.gap(schemas.GapMaskPolygons, fmt.Sprintf("%d segmentation masks of predictions.json are kept as COCO RLE (mask_rle) without their polygons: captured with --no-polygons", good),
			"capture again where the "+contours.Name+" helper is installed; until then Comet shows these predictions without their outlines")
		return nil
	}
	if err := r.opts.Contours.Start(); err != nil {
		return fmt.Errorf("%s: %d segmentation masks need polygons: %w: install %s (built with OpenCV) beside yoloarchive, or capture with --no-polygons to keep the masks as RLE without polygons",
			r.dir.path(r.predictions), good, err, contours.Name)
	}
	r.annot.contours = r.opts.Contours
	return nil
}

// isCOCOVal reports whether a dataset is COCO val2017 or test-dev2017, for
// which Ultralytics maps classes to the 91 COCO category ids.
func isCOCOVal(d *Dataset) bool {
	if d.YAML == "" {
		return false
	}
	data, err := os.ReadFile(d.YAML)
	if err != nil {
		return false
	}
	s := string(data)
	return strings.Contains(strings.ToLower(d.YAML+s), "coco") &&
		(strings.Contains(s, "val2017.txt") || strings.Contains(s, "test-dev2017.txt"))
}

// pickDatasetImages stores the validation images predictions.json refers
// to, up to the capture limit, and describes every validation image.
func (r *Run) pickDatasetImages(ctx context.Context) {
	if len(r.valImages) == 0 {
		if r.predStats.Count > 0 {
			r.gap(schemas.GapPredictionImages, "predictions.json refers to validation images of a dataset that did not resolve: no image can carry the predictions",
				"capture again with --data DATA.yaml")
		}
		return
	}
	limit := r.opts.DatasetImages
	var referenced []int
	for i, v := range r.valImages {
		if r.predStats.Images[v.key] {
			referenced = append(referenced, i)
		}
	}
	sort.Ints(referenced)
	store := map[int]bool{}
	for n, i := range referenced {
		if limit >= 0 && n >= limit {
			r.gap(schemas.GapPredictionImages, fmt.Sprintf("%d of %d validation images with predictions were stored (the limit)", limit, len(referenced)),
				"capture again with a higher --dataset-images")
			break
		}
		store[i] = true
	}
	for i, v := range r.valImages {
		row := schemas.ImageRow{Role: schemas.RoleDatasetImage, FileName: v.rel, Name: stem(v.rel),
			Width: int32(v.width), Height: int32(v.height), MediaType: v.mediaType}
		if store[i] {
			sum, err := archive.HashFile(v.path)
			if err != nil {
				r.warn(fmt.Sprintf("dataset image %s: %v (not stored)", v.path, err))
			} else {
				row.Blob, row.Size = sum.SHA256, sum.Size
				r.blobs = append(r.blobs, blob{sum: sum, path: v.path})
			}
		}
		r.Images = append(r.Images, row)
	}
}
