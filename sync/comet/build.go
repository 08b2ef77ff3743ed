package comet

import (
	"context"
	"encoding/json"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Options are the user's choices for a replay: the sync command's
// (Project and Name place and name the experiment, empty: the run's;
// Tags are added to it; Version selects the callback's behaviour), and
// Comet's own.
type Options struct {
	ysync.Options
	// Workspace places the experiment (empty: the key's default).
	Workspace string
	// MaxImagePredictions caps the prediction images as
	// COMET_MAX_IMAGE_PREDICTIONS does (default 100).
	MaxImagePredictions int
}

// ProjectName turns the callback's project (args.project, often a save
// path such as /home/me/runs) into a Comet project name: slashes are not
// allowed there, so the path's parts are joined with "-".
func ProjectName(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return "Ultralytics"
	}
	r := []rune(strings.ReplaceAll(p, "/", "-"))
	if len(r) > 99 {
		r = r[len(r)-99:]
	}
	return string(r)
}

// Build maps a run to what Ultralytics' Comet callback would have logged
// (callback-mapping.md part B), in the callback's order, every call held
// in Calls. A replay does not hold them: it sends the Log of buildStream,
// whose metric calls are generated from the archive as they are sent.
func Build(ctx context.Context, run *ysync.Run, o Options) (*Log, error) {
	l, err := buildStream(ctx, run, o)
	if err != nil {
		return nil, err
	}
	if err := l.collect(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// buildStream is Build for a replay: the Log's metric calls are read from
// the scalars table each time the Log is walked (see Log.each), and
// Calls holds the rest.
func buildStream(ctx context.Context, run *ysync.Run, o Options) (*Log, error) {
	if run.Info.SourceKind == schemas.SourceCometOffline {
		return buildSession(ctx, run, o)
	}
	l, err := buildCallback(ctx, run, o)
	if err != nil {
		return nil, err
	}
	l.Gaps = ysync.GapItems(run.Gaps)
	// A captured ClearML session's tags and console log: the SDK logs the
	// console live; here it follows the callback's calls.
	l.Tags = append(append([]string(nil), run.Info.Tags...), l.Tags...)
	var out []Call
	for _, lg := range run.Logs {
		at := l.End
		if lg.Time != nil {
			at = *lg.Time
		}
		// A ClearML console record holds whole lines without the last
		// newline; Comet shows its console as the texts written, one
		// after the other (the SDK's print sends the newline as a text of
		// its own).
		text := lg.Message
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		out = append(out, Call{Kind: KindOutput, Output: text, Stderr: lg.Level == "error" || lg.Level == "stderr", Time: at})
	}
	l.then(out...)
	return l, nil
}

// buildCallback is buildStream for everything but a captured Comet
// session.
func buildCallback(ctx context.Context, run *ysync.Run, o Options) (*Log, error) {
	info := run.Info
	v := ysync.CallbackVersion(info, o.Version)
	l := &Log{Workspace: o.Workspace, Project: o.Project, Name: o.Name, RunID: run.RunID(), Tags: append([]string(nil), o.Tags...)}
	if l.Project == "" {
		l.Project = ProjectName(info.Project)
	}
	if l.Name == "" {
		l.Name = info.Name
	}
	if l.Name == "" {
		l.Name = info.SourceName
	}
	clk := ysync.NewClock(run)
	l.Start, l.End = clk.Start, clk.End()
	var tail []Call // the calls after the epochs'
	add := func(c Call) { l.Calls = append(l.Calls, c); tail = append(tail, c) }

	// Setup.
	add(Call{Kind: KindParameters, Params: params(run.Params), Time: l.Start})
	cmKey := "log_confusion_matrix_on_eval"
	if ysync.VersionLess(v, "8.0.118") {
		cmKey = "log_confusion_matrix" // and its default was true (B.8)
	}
	add(Call{Kind: KindOthers, Time: l.Start, Others: []KV{
		{"eval_batch_logging_interval", int64(1)}, {cmKey, ysync.VersionLess(v, "8.0.118")},
		{"log_image_predictions", true}, {"max_image_predictions", int64(maxPredictions(o))},
	}})
	created := "ultralytics"
	if ysync.VersionLess(v, "8.3.21") {
		created = "yolov8"
	}
	add(Call{Kind: KindOther, Time: l.Start, Others: []KV{{"Created from", created}}})
	head := tail
	tail = nil

	// Per epoch: train losses; validation metrics and losses; lr. They
	// are generated from the scalars table each time the Log is walked
	// (see epochCalls); a first pass tells what the calls around them
	// need.
	spe := stepsPerEpoch(info)
	idx, err := indexEpochs(ctx, run, clk)
	if err != nil {
		return nil, err
	}
	// Model information (model/parameters, model/GFLOPs, ...) is logged
	// at epoch 1 when the archive holds it (a summary from a tracker
	// session); run directories never do (gap model_info).
	var modelInfo []Metric
	for _, s := range run.Summary {
		if strings.HasPrefix(s.Key, "model/") {
			modelInfo = append(modelInfo, Metric{s.Key, s.Value})
		}
	}
	// 8.0.67-8.3.20: the train batch images that exist at the end of the
	// first epoch (train_batch0-2), at its step.
	var epochOne []Call
	if idx.one && !ysync.VersionLess(v, "8.0.67") && ysync.VersionLess(v, "8.3.21") {
		for _, img := range firstEpochBatches(run) {
			epochOne = append(epochOne, Call{Kind: KindImage, Name: img.Name, Step: Int64(spe), Time: idx.oneAt,
				File: &File{Name: uploadName(img), Digest: img.Blob, Size: img.Size}})
		}
	}
	l.Calls = append(l.Calls, epochOne...)
	epoch := func(e int64, at time.Time, rows []Metric, yield func(Call) error) error {
		step, ep := Int64(e*spe), Int64(e)
		if ms := group(rows, "train/"); len(ms) > 0 {
			if err := yield(Call{Kind: KindMetrics, Metrics: ms, Step: step, Epoch: ep, Time: at}); err != nil {
				return err
			}
		}
		if e == 1 {
			for _, c := range epochOne {
				if err := yield(c); err != nil {
					return err
				}
			}
		}
		for _, ms := range [][]Metric{group(rows, "metrics/", "val/"), group(rows, "lr/")} {
			if len(ms) > 0 {
				if err := yield(Call{Kind: KindMetrics, Metrics: ms, Step: step, Epoch: ep, Time: at}); err != nil {
					return err
				}
			}
		}
		if e == 1 && len(modelInfo) > 0 {
			return yield(Call{Kind: KindMetrics, Metrics: modelInfo, Step: step, Epoch: ep, Time: at})
		}
		return nil
	}
	l.gen = func(ctx context.Context, yield func(Call) error) error {
		for _, c := range head {
			if err := yield(c); err != nil {
				return err
			}
		}
		err := epochCalls(ctx, run, clk, idx, func(e int64, at time.Time, rows []Metric) error { return epoch(e, at, rows, yield) })
		if err != nil {
			return err
		}
		for _, c := range tail {
			if err := yield(c); err != nil {
				return err
			}
		}
		return nil
	}
	// An interrupted run never reached the callback's train end, and a
	// run still training has not yet. A run whose status is unknown gets
	// the train-end calls its files allow.
	if info.Status == schemas.StatusInterrupted || info.Status == schemas.StatusRunning {
		return l, nil
	}
	// The final validation of best.pt, logged again at the last step
	// (the callback's duplicate last epoch); the summary holds the
	// best-fitness row.
	lastEpoch, lastLR := idx.last, group(idx.lastRows, "lr/")
	if lastEpoch > 0 {
		step, ep := Int64(lastEpoch*spe), Int64(lastEpoch)
		var final []Metric
		for _, s := range run.Summary {
			if strings.HasPrefix(s.Key, "metrics/") {
				final = append(final, Metric{s.Key, s.Value})
			}
		}
		if len(final) > 0 {
			add(Call{Kind: KindMetrics, Metrics: final, Step: step, Epoch: ep, Time: l.End})
		}
		if len(lastLR) > 0 {
			add(Call{Kind: KindMetrics, Metrics: lastLR, Step: step, Epoch: ep, Time: l.End})
		}
		if lastEpoch == 1 && len(modelInfo) > 0 {
			add(Call{Kind: KindMetrics, Metrics: modelInfo, Step: step, Epoch: ep, Time: l.End})
		}
	}
	lastStep := Int64(lastEpoch * spe)

	// Train end: model, plots, label images, predictions, batch images,
	// table and asset.
	if best, ok := run.Asset(schemas.RoleWeightsBest); ok && best.Blob != "" {
		name := "Ultralytics"
		if ysync.VersionLess(v, "8.3.9") {
			name = "YOLOv8"
		}
		add(Call{Kind: KindModel, Name: name, Overwrite: true, Time: l.End,
			File: &File{Name: "best.pt", Digest: best.Blob, Size: best.Size}})
	}
	root := map[string]schemas.ImageRow{}
	for _, img := range run.Images {
		fromSession := img.Kind != "" && img.Role != schemas.RoleTrackerImage
		if img.Role != schemas.RoleDatasetImage && (!strings.Contains(img.FileName, "/") || fromSession) && img.Blob != "" {
			root[img.Name] = img
		}
	}
	image := func(name string, step *int64) {
		if img, ok := root[name]; ok {
			add(Call{Kind: KindImage, Name: name, Step: step, Time: l.End,
				File: &File{Name: uploadName(img), Digest: img.Blob, Size: img.Size}})
		}
	}
	for _, n := range plotNames(info.Task, v) {
		image(n, nil)
	}
	if err := predictionImages(ctx, run, o, v, lastStep, l.End, add); err != nil {
		return nil, err
	}
	var batches []schemas.ImageRow
	batches = append(batches, run.ImagesByRole(schemas.RoleTrainBatch)...)
	batches = append(batches, run.ImagesByRole(schemas.RoleValBatchLabels, schemas.RoleValBatchPred)...)
	if !ysync.VersionLess(v, "8.3.21") {
		for _, img := range globOrder(batches) {
			if img.Blob != "" {
				add(Call{Kind: KindImage, Name: img.Name, Step: lastStep, Time: l.End,
					File: &File{Name: uploadName(img), Digest: img.Blob, Size: img.Size}})
			}
		}
	}
	if !ysync.VersionLess(v, "8.3.176") {
		if a, ok := run.Asset(schemas.RoleResultsCSV); ok && a.Blob != "" {
			add(Call{Kind: KindTable, Time: l.End, File: &File{Name: "results.csv", Digest: a.Blob, Size: a.Size}})
		}
		if a, ok := run.Asset(schemas.RoleArgsYAML); ok && a.Blob != "" {
			add(Call{Kind: KindAsset, Time: l.End, File: &File{Name: "args.yaml", Digest: a.Blob, Size: a.Size}})
		}
	}
	return l, nil
}

// group picks the points whose names start with one of the prefixes.
func group(rows []Metric, prefixes ...string) []Metric {
	var out []Metric
	for _, s := range rows {
		for _, p := range prefixes {
			if strings.HasPrefix(s.Name, p) {
				out = append(out, s)
			}
		}
	}
	return out
}

// tracked reports whether a scalar row is one of the callback's
// per-epoch points: a tracker metric of an epoch.
func tracked(s schemas.ScalarRow) bool { return s.Epoch >= 1 && ysync.IsTrackerMetric(s.Metric) }

// epochIndex is what a first pass over the scalars tells the generation
// of the per-epoch calls and the calls around them: no rows but the last
// epoch's.
type epochIndex struct {
	// sorted: the tracked rows come epoch by epoch, in ascending order
	// (results.csv's order): one pass generates every epoch's calls.
	sorted bool
	// last is the last epoch with points, lastRows its points (as the
	// epoch's calls have them), for train end's learning rates.
	last     int64
	lastRows []Metric
	// one: epoch 1 has points, the first logged at oneAt.
	one   bool
	oneAt time.Time
}

// indexEpochs makes the epochIndex of run's scalars in one pass.
func indexEpochs(ctx context.Context, run *ysync.Run, clk *ysync.Clock) (epochIndex, error) {
	idx := epochIndex{sorted: true}
	var prev int64
	// A tracker session logs some values twice (ClearML re-logs the last
	// epoch's validation at train end); the first point of each metric
	// and epoch is the epoch's, the final values come from the summary.
	seen := map[string]bool{}
	err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
		for _, s := range rows {
			if !tracked(s) {
				continue
			}
			if s.Epoch < prev {
				idx.sorted = false
			}
			prev = s.Epoch
			if s.Epoch == 1 && !idx.one {
				idx.one, idx.oneAt = true, clk.At(s)
			}
			if s.Epoch > idx.last {
				idx.last, idx.lastRows = s.Epoch, idx.lastRows[:0]
				clear(seen)
			}
			if s.Epoch != idx.last {
				continue
			}
			if s.Step != nil {
				if seen[s.Metric] {
					continue
				}
				seen[s.Metric] = true
			}
			idx.lastRows = append(idx.lastRows, Metric{s.Metric, s.Value})
		}
		return nil
	})
	return idx, err
}

// epochWindow is the most rows epochCalls holds when the table is not in
// epoch order: it then reads the table once per window of epochs (a
// variable for tests).
var epochWindow = 1 << 17

// epochCalls calls fn with each epoch's points in ascending epoch order:
// the first point of each metric and epoch that has a step (a session's
// duplicates left out; results.csv's rows have none), in table order, and
// when the epoch's first point was logged. It holds one epoch's points
// when the table is in epoch order (idx.sorted), else one window of
// epochs, read in one pass over the table each.
func epochCalls(ctx context.Context, run *ysync.Run, clk *ysync.Clock, idx epochIndex, fn func(e int64, at time.Time, rows []Metric) error) error {
	if idx.sorted {
		var cur int64
		var at time.Time
		var points []Metric
		seen := map[string]bool{}
		err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
			for _, s := range rows {
				if !tracked(s) {
					continue
				}
				if s.Epoch != cur {
					if cur > 0 {
						if err := fn(cur, at, points); err != nil {
							return err
						}
					}
					cur, at, points = s.Epoch, clk.At(s), points[:0]
					clear(seen)
				}
				if s.Step != nil {
					if seen[s.Metric] {
						continue
					}
					seen[s.Metric] = true
				}
				points = append(points, Metric{s.Metric, s.Value})
			}
			return nil
		})
		if err != nil || cur == 0 {
			return err
		}
		return fn(cur, at, points)
	}
	windows, err := run.EpochWindows(ctx, tracked, epochWindow)
	if err != nil {
		return err
	}
	type epochPoints struct {
		at     time.Time // the first point's
		points []Metric
		seen   map[string]bool
	}
	for _, w := range windows {
		lo, hi := w[0], w[1]
		window := map[int64]*epochPoints{}
		err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
			for _, s := range rows {
				if !tracked(s) || s.Epoch < lo || s.Epoch > hi {
					continue
				}
				ep := window[s.Epoch]
				if ep == nil {
					ep = &epochPoints{at: clk.At(s), seen: map[string]bool{}}
					window[s.Epoch] = ep
				}
				if s.Step != nil {
					if ep.seen[s.Metric] {
						continue
					}
					ep.seen[s.Metric] = true
				}
				ep.points = append(ep.points, Metric{s.Metric, s.Value})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range slices.Sorted(maps.Keys(window)) {
			if err := fn(e, window[e].at, window[e].points); err != nil {
				return err
			}
		}
	}
	return nil
}

// globOrder orders batch images as the callback's two globs do:
// train_batch* before val_batch*. Within each, the live order is the
// directory's, which is not recorded; file-name order is used.
func globOrder(imgs []schemas.ImageRow) []schemas.ImageRow {
	sort.SliceStable(imgs, func(i, j int) bool {
		ti, tj := strings.HasPrefix(imgs[i].Name, "train"), strings.HasPrefix(imgs[j].Name, "train")
		if ti != tj {
			return ti
		}
		return imgs[i].FileName < imgs[j].FileName
	})
	return imgs
}

func maxPredictions(o Options) int {
	if o.MaxImagePredictions > 0 {
		return o.MaxImagePredictions
	}
	return 100
}

// stepsPerEpoch is train images // batch (callback-mapping.md B.2), or 1
// when either is unknown: the step is then the epoch.
func stepsPerEpoch(info schemas.RunRow) int64 {
	if info.TrainImages != nil && info.Batch != nil && *info.Batch > 0 {
		return *info.TrainImages / *info.Batch
	}
	return 1
}

// plotNames is the callback's list of plot and label images for the
// task and version (callback-mapping.md B.3), including names whose files
// the run does not have (they upload nothing, as live).
func plotNames(task, v string) []string {
	var curves []string
	switch {
	case ysync.VersionLess(v, "8.3.21"):
		// One list for every task, then the label plots.
		return []string{"F1_curve", "P_curve", "R_curve", "PR_curve", "confusion_matrix", "labels", "labels_correlogram"}
	case task == "classify":
	case task == "segment" || task == "pose":
		second := "Mask"
		if task == "pose" {
			second = "Pose"
		}
		for _, c := range []string{"F1", "P", "R", "PR"} {
			curves = append(curves, "Box"+c+"_curve", second+c+"_curve")
		}
	case ysync.VersionLess(v, "8.3.176"):
		curves = []string{"F1_curve", "P_curve", "R_curve", "PR_curve"}
	default:
		curves = []string{"BoxF1_curve", "BoxP_curve", "BoxR_curve", "BoxPR_curve"}
	}
	names := append(curves, "confusion_matrix", "confusion_matrix_normalized")
	if task != "classify" {
		names = append(names, "labels")
		if ysync.VersionLess(v, "8.3.176") {
			names = append(names, "labels_correlogram")
		}
	}
	return names
}

// firstEpochBatches are the train batch images plotted during the first
// epoch (train_batch0, 1, 2; later ones come from the close-mosaic epoch),
// in file-name order.
func firstEpochBatches(run *ysync.Run) []schemas.ImageRow {
	var out []schemas.ImageRow
	for _, img := range run.ImagesByRole(schemas.RoleTrainBatch) {
		n, err := strconv.Atoi(strings.TrimPrefix(img.Name, "train_batch"))
		if err == nil && n < 3 {
			out = append(out, img)
		}
	}
	return out
}

// predictionTask reports whether the callback logs image predictions for
// the task at version v: detect since 8.0.67, segment since 8.3.87.
func predictionTask(task, v string) bool {
	switch task {
	case "detect":
		return !ysync.VersionLess(v, "8.0.67")
	case "segment":
		return !ysync.VersionLess(v, "8.3.87")
	}
	return false
}

// predictionImages adds the annotated validation images (B.5): the
// dataset's validation images in file-name order, capped, each with its
// ground-truth and prediction layers. Nothing is logged without
// predictions (the callback's empty jdict) or for other tasks.
func predictionImages(ctx context.Context, run *ysync.Run, o Options, v string, step *int64, at time.Time, add func(Call)) error {
	if _, ok := run.Asset(schemas.RolePredictionsJSON); !ok || !predictionTask(run.Info.Task, v) {
		return nil
	}
	imgs := run.ImagesByRole(schemas.RoleDatasetImage)
	sort.SliceStable(imgs, func(i, j int) bool { return imgs[i].FileName < imgs[j].FileName })
	var picked []schemas.ImageRow
	for _, img := range imgs {
		if len(picked) >= maxPredictions(o) {
			break
		}
		if img.Blob != "" {
			picked = append(picked, img)
		}
	}
	// One pass over the annotations keeps only the picked images' rows.
	hasPred := false
	byImage := map[string][]schemas.AnnotationRow{}
	for _, img := range picked {
		byImage[img.FileName] = nil
	}
	err := run.ScanAnnotations(ctx, func(rows []schemas.AnnotationRow) error {
		for _, a := range rows {
			hasPred = hasPred || a.Layer == schemas.LayerPrediction
			if kept, ok := byImage[a.ImageFile]; ok {
				byImage[a.ImageFile] = append(kept, a)
			}
		}
		return nil
	})
	if err != nil || !hasPred {
		return err
	}
	for _, img := range picked {
		add(Call{Kind: KindImage, Name: img.Name, Step: step, Time: at, Annotations: layers(byImage[img.FileName]),
			File: &File{Name: uploadName(img), Digest: img.Blob, Size: img.Size}})
	}
	return nil
}

// layers turns annotation rows into the callback's ground-truth and
// prediction layers (a layer without items is left out).
func layers(rows []schemas.AnnotationRow) []Layer {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Index < rows[j].Index })
	var gt, pred []Annotation
	for _, r := range rows {
		a := Annotation{Label: r.Label}
		if r.BoxX != nil && r.BoxY != nil && r.BoxW != nil && r.BoxH != nil {
			a.Boxes = [][]float64{{*r.BoxX, *r.BoxY, *r.BoxW, *r.BoxH}}
		}
		switch r.Layer {
		case schemas.LayerGroundTruth:
			a.Label, a.Score = "gt_"+r.Label, 100
			gt = append(gt, a)
		case schemas.LayerPrediction:
			if r.Score != nil {
				a.Score = *r.Score * 100
			}
			if r.MaskRLE != nil {
				a.Points = r.Polygons
			}
			pred = append(pred, a)
		}
	}
	var out []Layer
	if len(gt) > 0 {
		out = append(out, Layer{Name: "ground_truth", Data: gt})
	}
	if len(pred) > 0 {
		out = append(out, Layer{Name: "prediction", Data: pred})
	}
	return out
}

// params turns the args section into log_parameters' values, typed.
func params(rows []schemas.ParamRow) []KV {
	var out []KV
	for _, p := range rows {
		if p.Section != "args" {
			continue
		}
		out = append(out, KV{p.Key, paramValue(p)})
	}
	return out
}

func paramValue(p schemas.ParamRow) any {
	switch p.Type {
	case schemas.TypeNull:
		return nil
	case schemas.TypeBool:
		return p.Bool != nil && *p.Bool
	case schemas.TypeInt:
		if p.Int != nil {
			return *p.Int
		}
	case schemas.TypeFloat:
		if p.Float != nil {
			return *p.Float
		}
	case schemas.TypeString:
		if p.String != nil {
			return *p.String
		}
	case schemas.TypeJSON:
		if v, ok := exactJSON(p.Text); ok {
			return v
		}
	case schemas.TypeList, schemas.TypeMixed:
		if len(p.ItemTypes) == len(p.Items) && len(p.Items) > 0 {
			// Each item's own type (format 1.3).
			items := make([]any, len(p.Items))
			for i, it := range p.Items {
				items[i] = typedItem(it, p.ItemTypes[i])
			}
			return items
		}
		if strings.HasPrefix(p.Text, "[") {
			// A session's list before format 1.3, kept as JSON.
			if v, ok := exactJSON(p.Text); ok {
				if list, ok := v.([]any); ok {
					return list
				}
			}
		}
		items := make([]any, len(p.Items))
		for i, it := range p.Items {
			items[i] = itemValue(it, p.ItemType)
		}
		return items
	}
	return p.Text
}

// exactJSON decodes JSON with each number typed as Python's json module
// reads it: int64 when written without a fraction or exponent, float64
// otherwise (so that [0] stays [0] and [0.0] stays [0.0]).
func exactJSON(text string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	var typed func(any) any
	typed = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil && !strings.ContainsAny(x.String(), ".eE") {
				return i
			}
			if f, err := x.Float64(); err == nil {
				return f
			}
			return x.String()
		case []any:
			for i := range x {
				x[i] = typed(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = typed(x[k])
			}
		}
		return v
	}
	return typed(v), true
}

// typedItem is a list item from its text and its own type.
func typedItem(text, typ string) any {
	switch typ {
	case schemas.TypeNull:
		return nil
	case schemas.TypeBool:
		return text == "true" || text == "True"
	case schemas.TypeInt:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n
		}
	case schemas.TypeFloat:
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f
		}
	}
	return text
}

func itemValue(text, typ string) any {
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && (typ == schemas.TypeInt || typ == schemas.TypeMixed) {
		return n
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && (typ == schemas.TypeFloat || typ == schemas.TypeMixed) {
		return f
	}
	if b, err := strconv.ParseBool(text); err == nil && typ == schemas.TypeBool {
		return b
	}
	if text == "null" || text == "~" {
		return nil
	}
	return text
}

// Counts summarizes a Log for a dry run: one of Build, which holds every
// call.
func (l *Log) Counts() ysync.Plan {
	p := ysync.Plan{Project: l.Project, Name: l.Name}
	for _, c := range l.Calls {
		switch c.Kind {
		case KindParameters:
			p.Parameters += len(c.Params)
		case KindMetrics:
			p.Scalars += len(c.Metrics)
		case KindImage:
			p.Images++
		case KindModel:
			p.ModelBytes += c.File.Size
		case KindTable, KindAsset, KindConfusionMatrix:
			p.Assets++
		}
		if c.File != nil {
			p.UploadBytes += c.File.Size
		}
	}
	return p
}

// count is Counts for any Log: the metric values are counted as a walk
// of the Log generates them.
func (l *Log) count(ctx context.Context) (ysync.Plan, error) {
	p := l.Counts()
	if l.gen == nil {
		return p, nil
	}
	p.Scalars = 0
	err := l.each(ctx, func(_ int, c Call) error {
		p.Scalars += len(c.Metrics)
		return nil
	})
	return p, err
}

// uploadName is the file name an image is logged under: the Ultralytics
// file name (train_batch0.jpg), also for images a tracker session stored
// under its own names.
func uploadName(img schemas.ImageRow) string {
	return img.Name + path.Ext(img.FileName)
}
