package clearml

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// singleValueIter is the iteration of single values ("Summary").
const singleValueIter = -2147483648

// event is one events.add_batch line.
type event map[string]any

// upload is one file for the file server.
type upload struct {
	Key string
	// Digest is the archive blob; Data replaces it for converted files.
	Digest string
	Data   []byte
	Size   int64
	// ContentType is the part's media type.
	ContentType string
}

// plan is everything a replay sends for one run, in the callback's terms.
type plan struct {
	Project, Name string
	Tags          []string
	Version       string
	Hyperparams   map[string]map[string]clearmloffline.Param
	Comment       string
	Runtime       map[string]string
	// Uploads come before the events that point at them.
	Uploads []upload
	// task is the task id the events are addressed to.
	task string
	// scalars streams the run's scalar events from the table (nil: the
	// plan holds them all); timed are held events merged into them by
	// time (a session's images); Events are held events sent after them.
	// Read them all, in order, with each.
	scalars generator
	timed   []timedEvent
	Events  []event
	// skip leaves out events an earlier sync of the chain sent (since).
	skip func(*point) bool
	// Logs are console log events, sent after Events (a ClearML session's
	// log.jsonl).
	Logs []event
	// Model is the output model's weights (nil when the archive has none).
	Model        *upload
	ModelComment string
	Counts       ysync.Plan
	// End is when the run ended (best estimate).
	End time.Time
}

// projectName is the ClearML project: the override, else args.project
// without leading or trailing slashes (an absolute save path such as
// /home/me/runs would otherwise start with an empty nested project),
// else the callback's default.
func projectName(info schemas.RunRow, o ysync.Options, version string) string {
	p := o.Project
	if p == "" {
		p = strings.Trim(info.Project, "/")
	}
	if p == "" {
		p = "Ultralytics"
		if ysync.VersionLess(version, "8.3.9") {
			p = "YOLOv8"
		}
	}
	return p
}

// keyPrefix is the file-server prefix of a task's files:
// <quote(project)>/<quote(name.taskid)>.
func keyPrefix(project, name, taskID string) string {
	n := name
	if limit := max(2, 128-len(taskID)-1); len(n) > limit {
		n = n[:limit]
	}
	if project == "" {
		project = "unknown"
	}
	// A project or name with "../" (or a leading dot) must not lead out
	// of the task's folder on the file server, online as offline.
	return archive.SafeKey(pyQuote(project) + "/" + pyQuote(n+"."+taskID))
}

// pyQuote is urllib.parse.quote with the SDK's safe characters.
func pyQuote(s string) string {
	const safe = "'[]{}()$^,.; -_+-=/~"
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// keyPart escapes one path component of a metrics key as the SDK does.
func keyPart(s string) string {
	s = strings.Trim(strings.ReplaceAll(s, `\`, "/"), "/")
	s = strings.ReplaceAll(s, "/", ".slash.")
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("#\"';?:@&=+$,%!\r\n", r) {
			fmt.Fprintf(&b, "0x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// metricsKey is the key of a debug or plot image.
func metricsKey(prefix, metric, variant string, counter int, ext string) string {
	file := fmt.Sprintf("%s_%s_%08d", metric, variant, counter%100)
	if !strings.HasSuffix(file, ext) {
		file += ext
	}
	return archive.SafeKey(prefix + "/metrics/" + keyPart(metric) + "/" + keyPart(variant) + "/" + keyPart(file))
}

// quoteURL path-quotes a URL as the SDK's quote_url does (spaces → %20).
func quoteURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Scheme + "://" + p.Host + (&url.URL{Path: p.Path}).EscapedPath()
}

var batchRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`_batch(\d+)`) })

// addressing says where a plan's files live: on a file server (online),
// or in an offline session's data folder.
type addressing struct {
	filesHost string
	// localData is the absolute data/ folder of an offline session; it
	// replaces the file server in URLs, and the project becomes a single
	// key component (the SDK's importer keeps only two components of a
	// plot image's path).
	localData string
}

func (a addressing) imageURL(key string) string {
	if a.localData != "" {
		return a.localData + "/" + key
	}
	return a.filesHost + "/" + key
}

func (a addressing) plotSource(key string) string {
	if a.localData != "" {
		return a.localData + "/" + key
	}
	return quoteURL(a.filesHost + "/" + key)
}

func online(filesHost string) addressing { return addressing{filesHost: filesHost} }

// buildPlan maps a run to what the Ultralytics ClearML callback would have
// logged (callback-mapping.md part A), addressed to task taskID.
func buildPlan(ctx context.Context, run *ysync.Run, o ysync.Options, taskID string, addr addressing) (*plan, error) {
	info := run.Info
	if info.SourceKind == schemas.SourceClearMLOffline {
		return buildSessionPlan(ctx, run, o, taskID, addr)
	}
	v := ysync.CallbackVersion(info, o.Version)
	p := &plan{Version: v, Project: projectName(info, o, v), Name: o.Name}
	if p.Name == "" {
		p.Name = info.Name
	}
	if p.Name == "" {
		p.Name = info.SourceName
	}
	for len(p.Name) < 3 {
		p.Name += "_" // ClearML task names have at least 3 characters
	}
	tag := "Ultralytics"
	if ysync.VersionLess(v, "8.3.9") {
		tag = "YOLOv8"
	}
	p.Tags = append([]string{tag}, o.Tags...)
	for _, t := range info.Tags { // a captured Comet session's tags
		if t != tag {
			p.Tags = append(p.Tags, t)
		}
	}
	p.Hyperparams = hyperparams(run.Params)
	p.task = taskID
	prefix, ts := p.address(run, taskID, addr)
	add := func(e event) {
		e["task"] = taskID
		p.Events = append(p.Events, e)
	}
	scalar := func(iter int64, metric, variant string, value float64, at time.Time) {
		value, _ = ysync.JSONFloat(value) // the SDK sends NaN and Inf as 0
		add(event{"type": clearmloffline.EventScalar, "iter": iter, "metric": metric, "variant": variant,
			"value": value, "timestamp": at.UnixMilli()})
		if iter == singleValueIter {
			p.Counts.SingleValues++
		} else {
			p.Counts.Scalars++
		}
	}

	// Per-epoch scalars.
	epochs := run.Epochs()
	title := func(name string) string {
		switch {
		case strings.HasPrefix(name, "train/"):
			return "train"
		case strings.HasPrefix(name, "lr/"):
			return "lr"
		case ysync.VersionLess(v, "8.3.173"):
			return "val"
		}
		name, _, _ = strings.Cut(name, "/")
		return name
	}
	times := run.EpochTimes()
	// The per-epoch scalars are streamed from the table each time the
	// plan is read (each checks ctx between the scan's batches: Ctrl-C
	// does not wait for a 390k-scalar run's events).
	p.scalars = func(ctx context.Context, fn func(*point) error) error {
		// A tracker session's repeat of a metric in the same epoch (the
		// final validation) comes from the summary instead.
		seen := map[string]map[int64]bool{}
		var pt point
		err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
			for _, s := range rows {
				if !ysync.IsTrackerMetric(s.Metric) || s.Epoch < 1 {
					continue
				}
				if s.Step != nil {
					done := seen[s.Metric]
					if done == nil {
						done = map[int64]bool{}
						seen[strings.Clone(s.Metric)] = done
					}
					if done[s.Epoch] {
						continue
					}
					done[s.Epoch] = true
				}
				value, _ := ysync.JSONFloat(s.Value) // the SDK sends NaN and Inf as 0
				pt = point{iter: s.Epoch - 1, metric: title(s.Metric), variant: s.Metric, value: value, ts: ts.At(s).UnixMilli()}
				if err := fn(&pt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || ysync.VersionLess(v, "8.3.9") {
			return err
		}
		// Each epoch's time, from the run's per-epoch summary.
		for e := int64(1); e <= epochs; e++ {
			t, ok := times[e]
			if !ok {
				continue
			}
			if e%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			value, _ := ysync.JSONFloat(t - times[e-1])
			pt = point{iter: e - 1, metric: "Epoch Time", variant: "Epoch Time", value: value, ts: ts.Epoch(e).UnixMilli()}
			if err := fn(&pt); err != nil {
				return err
			}
		}
		return nil
	}
	finished := info.Status == schemas.StatusFinished
	// The final validation of best.pt is logged again at the last
	// iteration; the archive's summary holds the best-fitness row.
	if finished && epochs > 0 {
		for _, s := range run.Summary {
			if strings.HasPrefix(s.Key, "metrics/") {
				scalar(epochs-1, title(s.Key), s.Key, s.Value, ts.End())
			}
		}
	}
	if finished {
		for _, s := range run.Summary {
			scalar(singleValueIter, "Summary", s.Key, s.Value, ts.End())
		}
	}

	// Debug images.
	counters := map[string]int{}
	debugImage := func(img schemas.ImageRow, metric string, when time.Time) {
		base := fileBase(img)
		m := batchRE().FindStringSubmatch(base)
		iter := int64(0)
		variant := base
		if m != nil {
			iter, _ = strconv.ParseInt(m[1], 10, 64)
			variant = strings.Replace(variant, m[0], "", 1)
		}
		ext := ""
		if i := strings.IndexByte(base, '.'); i >= 0 {
			ext = base[i:]
		}
		ck := metric + "\x00" + variant
		key := metricsKey(prefix, metric, variant, counters[ck], ext)
		counters[ck]++
		p.Uploads = append(p.Uploads, upload{Key: key, Digest: img.Blob, Size: img.Size, ContentType: img.MediaType})
		add(event{"type": clearmloffline.EventDebugImage, "iter": iter, "metric": metric, "variant": variant,
			"key": key, "url": addr.imageURL(key), "timestamp": when.UnixMilli()})
		p.Counts.Images++
	}
	if epochs >= 2 {
		extra := closeMosaicEpoch(run) == 1
		for _, img := range sortedByName(run.ImagesByRole(schemas.RoleTrainBatch)) {
			n, ok := batchNumber(img)
			if img.Blob == "" || !ok || (n > 2 && !extra) {
				continue
			}
			debugImage(img, "Mosaic", ts.Epoch(2))
		}
	}
	if finished {
		for _, img := range sortedByName(run.ImagesByRole(schemas.RoleValBatchLabels, schemas.RoleValBatchPred)) {
			if img.Blob != "" {
				debugImage(img, "Validation", ts.End())
			}
		}
		// Plots.
		for _, img := range plotImages(run, v) {
			if err := plotEvent(p, img, prefix, addr, ts.End(), add); err != nil {
				return nil, err
			}
		}
		// Output model.
		if best, ok := run.Asset(schemas.RoleWeightsBest); ok && best.Blob != "" {
			p.Model = &upload{Key: archive.SafeKey(prefix + "/models/" + path.Base(best.FileName)), Digest: best.Blob, Size: best.Size,
				ContentType: "application/octet-stream"}
			local := strings.TrimRight(info.SaveDir, "/") + "/" + best.FileName
			p.ModelComment = fmt.Sprintf("snapshot %s stored\nCreated by task id: %s", local, taskID)
			p.Counts.ModelBytes = best.Size
		}
	}
	// A captured Comet session's console output.
	for _, l := range run.Logs {
		at := p.End
		if l.Time != nil {
			at = *l.Time
		}
		level := "info"
		if l.Level == "stderr" {
			level = "error"
		}
		p.Logs = append(p.Logs, event{"type": clearmloffline.EventLog, "timestamp": at.UnixMilli(), "level": level, "msg": l.Message, "task": taskID})
	}
	p.Counts.Project, p.Counts.Name = p.Project, p.Name
	p.Counts.Parameters = len(p.Hyperparams["General"])
	for _, u := range p.Uploads {
		p.Counts.UploadBytes += u.Size
	}
	p.Counts.UploadBytes += p.Counts.ModelBytes
	return p, nil
}

// address sets the plan's provenance and end time and returns the file
// key prefix of its task and the run's clock.
func (p *plan) address(run *ysync.Run, taskID string, addr addressing) (string, *ysync.Clock) {
	p.Comment, p.Runtime = provenance(run)
	keyProject := p.Project
	if addr.localData != "" {
		keyProject = strings.ReplaceAll(strings.Trim(keyProject, "/"), "/", ".")
	}
	clk := ysync.NewClock(run)
	p.End = clk.End()
	return keyPrefix(keyProject, p.Name, taskID), clk
}

// closeMosaicEpoch is epochs − close_mosaic from the args, or −1.
func closeMosaicEpoch(run *ysync.Run) int64 {
	var epochs, close int64 = -1, -1
	for _, prm := range run.Params {
		if prm.Section != "args" || prm.Int == nil {
			continue
		}
		switch prm.Key {
		case "epochs":
			epochs = *prm.Int
		case "close_mosaic":
			close = *prm.Int
		}
	}
	if epochs < 0 || close < 0 {
		return -1
	}
	return epochs - close
}

// sortedByPath sorts as Python sorts the callback's glob results.
// sortedByName sorts images by their Ultralytics file name (the glob's
// sorted order), whatever a tracker session named the stored file.
func sortedByName(imgs []schemas.ImageRow) []schemas.ImageRow {
	sort.SliceStable(imgs, func(i, j int) bool { return fileBase(imgs[i]) < fileBase(imgs[j]) })
	return imgs
}

// fileBase is an image's Ultralytics file name: train_batch0.jpg also
// for a copy a tracker session stored as file_0012_train_batch0.jpg.
func fileBase(img schemas.ImageRow) string {
	if img.Kind != "" {
		return img.Name + path.Ext(img.FileName)
	}
	return path.Base(img.FileName)
}

// batchNumber is N of train_batchN.
func batchNumber(img schemas.ImageRow) (int64, bool) {
	m := batchRE().FindStringSubmatch(img.Name)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n, err == nil
}

// plotImages lists the plots the callback logs for the run's version, in
// its order (callback-mapping.md A.2, A.4).
func plotImages(run *ysync.Run, v string) []schemas.ImageRow {
	byName := map[string]schemas.ImageRow{}
	for _, img := range run.Images {
		fromSession := img.Kind != "" && img.Role != schemas.RoleTrackerImage
		if img.Role != schemas.RoleDatasetImage && (!strings.Contains(img.FileName, "/") || fromSession) && img.Blob != "" {
			byName[img.Name] = img
		}
	}
	var names []string
	if ysync.VersionLess(v, "8.3.235") {
		names = []string{"results", "confusion_matrix", "confusion_matrix_normalized", "F1_curve", "PR_curve", "P_curve", "R_curve"}
	} else {
		names = []string{"labels", "results"}
		for _, pre := range []string{"Box", "Mask", "Pose", ""} {
			for _, c := range []string{"PR", "F1", "P", "R"} {
				names = append(names, pre+c+"_curve")
			}
		}
		names = append(names, "confusion_matrix_normalized", "confusion_matrix")
	}
	var out []schemas.ImageRow
	for _, n := range names {
		if img, ok := byName[n]; ok {
			out = append(out, img)
		}
	}
	return out
}

// plotEvent adds a plot showing the image, as report_matplotlib_figure
// with report_interactive=False does: the image uploaded as PNG, and a
// plot event whose Plotly figure shows it.
func plotEvent(p *plan, img schemas.ImageRow, prefix string, addr addressing, at time.Time, add func(event)) error {
	title, variant := img.Name, "plot image"
	key := metricsKey(prefix, title, variant, 0, ".png")
	up := upload{Key: key, Digest: img.Blob, Size: img.Size, ContentType: "image/png"}
	if img.MediaType != "image/png" {
		// The live plot is always a PNG: convert (done lazily by the
		// sync, which has the blob).
		up.ContentType = "convert:image/png"
	}
	p.Uploads = append(p.Uploads, up)
	w, h := float64(img.Width), float64(img.Height)
	sizey := 480
	if w > 0 && h > 0 {
		sizey = int(640 * h / w)
	}
	fig := plotFigure(addr.plotSource(key), title+"/"+variant, sizey)
	add(event{"type": clearmloffline.EventPlot, "iter": int64(0), "metric": title, "variant": variant, "plot_str": fig,
		"timestamp": at.UnixMilli()})
	p.Counts.Plots++
	return nil
}

// plotFigure is the SDK's create_image_plot JSON, key order included.
func plotFigure(source, title string, sizey int) string {
	src, _ := json.Marshal(source)
	ttl, _ := json.Marshal(title)
	return fmt.Sprintf(`{"data": [], "layout": {"xaxis": {"visible": false, "range": [0, 640]}, "yaxis": {"visible": false, "range": [0, %d], "scaleanchor": "x"}, "margin": {"l": 0, "r": 0, "t": 64, "b": 0}, "images": [{"sizex": 640, "sizey": %d, "xref": "x", "yref": "y", "opacity": 1.0, "x": 0, "y": %d, "sizing": "contain", "layer": "below", "source": %s}], "showlegend": false, "title": %s, "name": null}}`,
		sizey, sizey, sizey, src, ttl)
}

// toPNG re-encodes an image (JPEG) as PNG. It reads the image's size from
// its header first and refuses one over the budget's pixels before
// decoding anything (a 65000×65000 JPEG of a few KB decodes to 4 GB).
func toPNG(r io.Reader, budget archive.Limits) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if err := budget.CheckPixels(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var _ = jpeg.Decode // register the JPEG decoder for toPNG

// hyperparams maps args.yaml to the General section as task.connect
// stores it.
func hyperparams(params []schemas.ParamRow) map[string]map[string]clearmloffline.Param {
	general := map[string]clearmloffline.Param{}
	for _, prm := range params {
		if prm.Section != "args" {
			continue
		}
		value, typ := pyValue(prm)
		general[prm.Key] = clearmloffline.Param{Section: "General", Name: prm.Key, Value: value, Type: typ}
	}
	if len(general) == 0 {
		return nil
	}
	return map[string]map[string]clearmloffline.Param{"General": general}
}

// provenance is the task comment and runtime properties that record where
// the task came from: ClearML cannot backdate a task's own dates.
func provenance(run *ysync.Run) (string, map[string]string) {
	info := run.Info
	rt := map[string]string{
		schemas.MarkerRunID:   info.RunID,
		schemas.MarkerArchive: run.Digest(),
		"source_dir":          info.SaveDir,
	}
	if g := ysync.GapItems(run.Gaps); g != "" {
		rt[ysync.GapsOther] = g
	}
	comment := fmt.Sprintf("Replayed by yoloarchive from an archive of %s (run %s).", info.SaveDir, info.RunID)
	if info.StartedAt != nil {
		rt["original_started"] = info.StartedAt.UTC().Format(time.RFC3339)
		comment += " Originally trained " + info.StartedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"
		if info.TimeSource != "" {
			comment += " (" + info.TimeSource + ")"
		}
		comment += "."
	}
	if info.EndedAt != nil {
		rt["original_ended"] = info.EndedAt.UTC().Format(time.RFC3339)
	}
	return comment, rt
}
