package report

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert/export"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Defaults of [Options].
const (
	DefaultThumbPx   = 240
	DefaultFullPx    = 1024
	DefaultKeepBytes = 256 << 10
	DefaultImages    = 16
	// DefaultBudgetPerRun is the size a report may take per run with the
	// default options (tested on the fixtures: a 10-run report stays under
	// 10 times it).
	DefaultBudgetPerRun = 1 << 20
)

// Options tune a report. The zero value gives the defaults.
type Options struct {
	// ThumbPx is the long side of thumbnails (default 240).
	ThumbPx int
	// FullPx is the long side of the full-size view of an image whose
	// stored bytes are larger than KeepBytes or FullPx (default 1024,
	// 256 KiB). A negative FullPx leaves the full views out: a click shows
	// the thumbnail enlarged.
	FullPx, KeepBytes int
	// Images caps the dataset images shown per run in the gallery (the
	// first by file name; default 16, negative none).
	Images int
	// Title heads the page (default "yoloarchive report").
	Title string
	// Now stamps the page (default time.Now).
	Now time.Time
	// Version names the program in the page.
	Version string
	// GapTrackers names the trackers a gap item matters to, shown beside
	// each gap (the command passes sync.GapTrackers; nil shows none).
	GapTrackers func(item string) []string
}

func (o Options) withDefaults() Options {
	if o.ThumbPx <= 0 {
		o.ThumbPx = DefaultThumbPx
	}
	if o.FullPx == 0 {
		o.FullPx = DefaultFullPx
	}
	if o.KeepBytes <= 0 {
		o.KeepBytes = DefaultKeepBytes
	}
	if o.Images == 0 {
		o.Images = DefaultImages
	}
	if o.Title == "" {
		o.Title = "yoloarchive report"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// Result says what a report holds.
type Result struct {
	// Runs is the number of runs (a chain counts once).
	Runs int `json:"runs"`
	// Images and Annotations count the gallery's images and the shapes
	// drawn on them; Plots the saved plots shown.
	Images      int `json:"images"`
	Annotations int `json:"annotations"`
	Plots       int `json:"plots"`
	// Skipped says which images were left out and why.
	Skipped []string `json:"skipped,omitempty"`
	// Notes say which inputs were taken as one run (a chain's links).
	Notes []string `json:"notes,omitempty"`
	// Bytes is the size of the page written.
	Bytes int64 `json:"bytes"`
}

// pageRun is one run's data, as the page's script (report.js) reads it.
type pageRun struct {
	Label     string     `json:"label"`
	Name      string     `json:"name"`
	Archive   string     `json:"archive"`
	Links     int        `json:"links,omitempty"`
	RunID     string     `json:"run_id"`
	Task      string     `json:"task"`
	Mode      string     `json:"mode"`
	Status    string     `json:"status"`
	Epochs    int64      `json:"epochs"`
	Planned   *int64     `json:"epochs_planned,omitempty"`
	BestEpoch *int64     `json:"best_epoch,omitempty"`
	Version   string     `json:"version"`
	Dataset   string     `json:"dataset"`
	DataFound bool       `json:"dataset_found"`
	Source    string     `json:"source"`
	Gaps      []pageGap  `json:"gaps"`
	Values    []pageVal  `json:"values"`
	Series    pageSeries `json:"series"`
	Plots     []pageImg  `json:"plots"`
	Gallery   []pageImg  `json:"gallery"`
	// MoreImages counts the dataset images not shown (over Options.Images).
	MoreImages int `json:"more_images,omitempty"`
}

type pageGap struct {
	Item    string   `json:"item"`
	Affects []string `json:"affects,omitempty"`
	Reason  string   `json:"reason"`
	Hint    string   `json:"hint,omitempty"`
}

type pageVal struct {
	Metric     string  `json:"metric"`
	Original   string  `json:"original,omitempty"`
	Goal       string  `json:"goal,omitempty"`
	Best       *Number `json:"best,omitempty"`
	BestEpoch  *int64  `json:"best_epoch,omitempty"`
	Final      Number  `json:"final"`
	FinalEpoch int64   `json:"final_epoch"`
}

// pageSeries maps a metric to its [epochs, values] (NaN as null), sorted by
// epoch.
type pageSeries map[string][2][]*float64

type pageParam struct {
	Key    string    `json:"key"`
	Values []*string `json:"values"` // per run; nil where the run has none
}

type pageImg struct {
	Name  string     `json:"name"`
	File  string     `json:"file"`
	Role  string     `json:"role"`
	W     int32      `json:"w"` // original size: annotation coordinates
	H     int32      `json:"h"`
	Thumb string     `json:"thumb"`
	Full  string     `json:"full"`
	Anns  []pageAnno `json:"anns,omitempty"`
}

// pageAnno is one annotation, in original-image pixels, rounded to 0.1.
type pageAnno struct {
	Layer string      `json:"l"` // "g" ground truth, "p" prediction
	Label string      `json:"c"`
	Score *float64    `json:"s,omitempty"`
	Box   []float64   `json:"b,omitempty"` // x, y, w, h
	RBox  []float64   `json:"r,omitempty"` // cx, cy, w, h, angle (rad)
	Polys [][]float64 `json:"p,omitempty"`
	Kpts  []float64   `json:"k,omitempty"` // x, y, v triples
}

//go:embed assets/uPlot.iife.min.js
var uplotJS string

//go:embed assets/uPlot.min.css
var uplotCSS string

//go:embed assets/report.js
var reportJS string

//go:embed assets/report.css
var reportCSS string

//go:embed assets/report.html
var pageHTML string

// tmpl is parsed at first use, not at init: every command links this package.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(pageHTML))
})

// Galleries and plots: the roles shown.
var (
	galleryRoles = map[string]bool{schemas.RoleDatasetImage: true, schemas.RoleValBatchLabels: true, schemas.RoleValBatchPred: true}
	plotRoles    = map[string]bool{schemas.RoleConfusionMatrix: true, schemas.RoleConfusionMatrixNorm: true, schemas.RoleCurve: true, schemas.RoleResultsPlot: true}
)

// Write reads the archives (a chain's links as one run, in the order
// given) and writes the report to w. An archive that cannot be read fails
// the report, naming it.
func Write(ctx context.Context, paths []string, w io.Writer, opt Options) (*Result, error) {
	opt = opt.withDefaults()
	paths, notes := chain.Group(paths)
	res := &Result{Notes: notes}
	title := opt.Title
	// The page around its data: the data is written run by run, so that
	// the report holds one run's images in memory, not every run's.
	var frame strings.Builder
	err := tmpl().Execute(&frame, map[string]any{
		"Title":     title,
		"UplotCSS":  template.CSS(uplotCSS),
		"ReportCSS": template.CSS(reportCSS),
		"UplotJS":   template.JS(uplotJS),
		"ReportJS":  template.JS(reportJS),
		"Data":      template.JS(dataMark),
	})
	if err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	head, tail, ok := strings.Cut(frame.String(), dataMark)
	if !ok {
		return nil, fmt.Errorf("write report: the page template has no place for the data")
	}
	cw := &countWriter{w: w}
	// json.Marshal escapes <, > and &: the data cannot end the script.
	put := func(parts ...any) error {
		for _, p := range parts {
			var b []byte
			switch p := p.(type) {
			case raw:
				b = []byte(p)
			default:
				var err error
				if b, err = json.Marshal(p); err != nil {
					return fmt.Errorf("encode report data: %w", err)
				}
			}
			if _, err := cw.Write(b); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
		}
		return nil
	}
	err = put(raw(head), raw(`{"title":`), title, raw(`,"generated":`), opt.Now.UTC().Format(time.RFC3339), raw(`,"version":`), opt.Version,
		raw(`,"thumb_px":`), opt.ThumbPx, raw(`,"notes":`), nonNil(notes), raw(`,"runs":[`))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	metrics := []string{}
	var params []map[string]string
	cache := &renditionCache{m: map[string]pair{}, max: 64 << 20}
	for i, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := open(ctx, path)
		if err != nil {
			return nil, &InputError{Path: path, Err: err}
		}
		pr, pm, err := readRun(ctx, r, i, opt, res, cache)
		r.close()
		if err != nil {
			return nil, &InputError{Path: path, Err: err}
		}
		for _, v := range pr.Values {
			if !seen[v.Metric] {
				seen[v.Metric] = true
				metrics = append(metrics, v.Metric)
			}
		}
		params = append(params, pm)
		sep := raw(",")
		if i == 0 {
			sep = ""
		}
		if err := put(sep, pr); err != nil {
			return nil, err
		}
		res.Runs++
	}
	if err := put(raw(`],"metrics":`), metrics, raw(`,"params":`), differing(params), raw(`,"skipped":`), nonNil(res.Skipped), raw("}"), raw(tail)); err != nil {
		return nil, err
	}
	res.Bytes = cw.n
	return res, nil
}

// raw is page text written as it is; any other value is written as JSON.
type raw string

// dataMark stands for the page's data in the rendered template.
const dataMark = "@@yoloarchive-report-data@@"

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// renditionCache keeps the renditions of the images read, by digest, for
// the runs that share them (the same validation images), up to max bytes.
type renditionCache struct {
	m     map[string]pair
	bytes int
	max   int
}

func (c *renditionCache) add(d string, p pair) {
	if n := len(p.thumb.URI) + len(p.full.URI); c.bytes+n <= c.max {
		c.m[d] = p
		c.bytes += n
	}
}

// InputError is the error of an archive that could not be read: it fails
// the report.
type InputError struct {
	Path string
	Err  error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// readRun gathers one run's page data and its parameters (key → text).
func readRun(ctx context.Context, r *run, i int, opt Options, res *Result, cache *renditionCache) (*pageRun, map[string]string, error) {
	t := r.Tables
	info := t.Info
	pr := &pageRun{
		Name: info.Name, Archive: r.Path, Links: r.linkCount(), RunID: info.RunID, Task: info.Task, Mode: info.Mode,
		Status: info.Status, Epochs: info.EpochsCompleted, Planned: info.EpochsPlanned, BestEpoch: info.BestEpoch,
		Version: VersionText(info), Dataset: info.Dataset, DataFound: info.DatasetResolved, Source: info.SourceKind,
		Gaps: []pageGap{}, Plots: []pageImg{}, Gallery: []pageImg{},
	}
	if pr.Name == "" {
		pr.Name = info.SourceName
	}
	pr.Label = fmt.Sprintf("%d %s", i+1, pr.Name)
	for _, g := range t.Gaps {
		pg := pageGap{Item: g.Item, Reason: g.Reason, Hint: g.Hint}
		if opt.GapTrackers != nil {
			pg.Affects = opt.GapTrackers(g.Item)
		}
		pr.Gaps = append(pr.Gaps, pg)
	}
	for _, v := range Values(t.Scalars) {
		pv := pageVal{Metric: v.Metric, Original: v.Original, Goal: v.Goal, BestEpoch: v.BestEpoch, Final: Number(v.Final), FinalEpoch: v.FinalEpoch}
		if v.Best != nil {
			b := Number(*v.Best)
			pv.Best = &b
		}
		pr.Values = append(pr.Values, pv)
	}
	pr.Series = series(t.Scalars)
	params := map[string]string{}
	for _, p := range t.Params {
		text := p.Text
		if p.Type == schemas.TypeList {
			text = "[" + strings.Join(p.Items, ", ") + "]"
		}
		params[p.Section+"/"+p.Key] = text
	}
	if err := readImages(ctx, r, pr, opt, res, cache); err != nil {
		return nil, nil, err
	}
	return pr, params, nil
}

func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// series groups scalars by unified metric name, sorted by epoch (a
// chain's merge or a session may list them out of order).
func series(rows []schemas.ScalarRow) pageSeries {
	type pt struct {
		e int64
		v float64
	}
	by := map[string][]pt{}
	for _, r := range rows {
		name := export.UnifiedMetric(r.Metric)
		by[name] = append(by[name], pt{r.Epoch, r.Value})
	}
	out := pageSeries{}
	for name, pts := range by {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].e < pts[j].e })
		var xs, ys []*float64
		for k, p := range pts {
			// One point per epoch: the last logged (a session may log an
			// epoch twice).
			if k+1 < len(pts) && pts[k+1].e == p.e {
				continue
			}
			e := float64(p.e)
			xs, ys = append(xs, &e), append(ys, num(p.v))
		}
		out[name] = [2][]*float64{xs, ys}
	}
	return out
}

// differing returns the parameters whose value is not the same in every
// run (every parameter for a single run), sorted by key.
func differing(runs []map[string]string) []pageParam {
	keys := map[string]bool{}
	for _, m := range runs {
		for k := range m {
			keys[k] = true
		}
	}
	var out []pageParam
	for k := range keys {
		vals := make([]*string, len(runs))
		same := true
		for i, m := range runs {
			if v, ok := m[k]; ok {
				vals[i] = &v
			}
			if i > 0 && !eqp(vals[i], vals[0]) {
				same = false
			}
		}
		if same && len(runs) > 1 {
			continue
		}
		out = append(out, pageParam{Key: k, Values: vals})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if out == nil {
		out = []pageParam{}
	}
	return out
}

func eqp(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// readImages makes the thumbnails and full views of the run's plots and
// gallery images, and joins the gallery's dataset images with their
// annotations.
func readImages(ctx context.Context, r *run, pr *pageRun, opt Options, res *Result, cache *renditionCache) error {
	t := r.Tables
	var plots, gallery, dataset []schemas.ImageRow
	for _, im := range t.Images {
		switch {
		case im.Blob == "":
		case plotRoles[im.Role]:
			plots = append(plots, im)
		case im.Role == schemas.RoleDatasetImage:
			dataset = append(dataset, im)
		case galleryRoles[im.Role]:
			gallery = append(gallery, im)
		}
	}
	sort.SliceStable(plots, func(i, j int) bool { return plotOrder(plots[i]) < plotOrder(plots[j]) })
	sort.SliceStable(gallery, func(i, j int) bool { return gallery[i].FileName < gallery[j].FileName })
	sort.SliceStable(dataset, func(i, j int) bool { return dataset[i].FileName < dataset[j].FileName })
	if opt.Images < 0 {
		opt.Images = 0
	}
	if len(dataset) > opt.Images {
		pr.MoreImages = len(dataset) - opt.Images
		dataset = dataset[:opt.Images]
	}
	gallery = append(dataset, gallery...)

	anns := map[string][]pageAnno{}
	for _, a := range t.Annotations {
		key := a.ImageFile
		if key == "" {
			key = "\x00" + a.Image
		}
		anns[key] = append(anns[key], anno(a))
	}
	limits := archive.BudgetFrom(ctx)
	made := map[string]pair{}
	want := map[string]bool{}
	for _, im := range append(append([]schemas.ImageRow(nil), plots...), gallery...) {
		if p, ok := cache.m[im.Blob]; ok {
			made[im.Blob] = p
		} else {
			want[im.Blob] = true
		}
	}
	failed := map[string]error{}
	var err error
	if len(want) > 0 {
		err = r.blobs(ctx, want, func(d string, data []byte) error {
			var mt string
			for _, im := range append(plots, gallery...) {
				if im.Blob == d {
					mt = im.MediaType
				}
			}
			th, fu, err := renditions(data, mt, opt.ThumbPx, opt.FullPx, opt.KeepBytes, limits)
			if err != nil {
				failed[d] = err
				return nil
			}
			made[d] = pair{th, fu}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("%s: read images: %w", r.Path, err)
	}
	page := func(im schemas.ImageRow) (pageImg, bool) {
		m, ok := made[im.Blob]
		if !ok {
			why := "not found in the archive"
			if e := failed[im.Blob]; e != nil {
				why = e.Error()
			}
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s: %s", r.Path, im.FileName, why))
			return pageImg{}, false
		}
		return pageImg{Name: im.Name, File: im.FileName, Role: im.Role, W: im.Width, H: im.Height, Thumb: m.thumb.URI, Full: m.full.URI}, true
	}
	for _, im := range plots {
		if pi, ok := page(im); ok {
			pr.Plots = append(pr.Plots, pi)
			res.Plots++
		}
	}
	for _, im := range gallery {
		pi, ok := page(im)
		if !ok {
			continue
		}
		if im.Role == schemas.RoleDatasetImage {
			pi.Anns = anns[im.FileName]
			if pi.Anns == nil {
				pi.Anns = anns["\x00"+im.Name]
			}
			res.Annotations += len(pi.Anns)
		}
		pr.Gallery = append(pr.Gallery, pi)
		res.Images++
	}
	return nil
}

// pair is an image's thumbnail and full view.
type pair struct{ thumb, full rendition }

// plotOrder puts confusion matrices first, then the curves, then results.
func plotOrder(im schemas.ImageRow) string {
	rank := map[string]string{schemas.RoleConfusionMatrix: "0", schemas.RoleConfusionMatrixNorm: "1", schemas.RoleCurve: "2", schemas.RoleResultsPlot: "3"}
	return rank[im.Role] + im.FileName
}

func anno(a schemas.AnnotationRow) pageAnno {
	p := pageAnno{Layer: "p", Label: a.Label, Score: a.Score}
	if a.Layer == schemas.LayerGroundTruth {
		p.Layer = "g"
	}
	if a.BoxX != nil && a.BoxY != nil && a.BoxW != nil && a.BoxH != nil {
		p.Box = round([]float64{*a.BoxX, *a.BoxY, *a.BoxW, *a.BoxH})
	}
	if len(a.RBox) == 5 {
		p.RBox = append(round(a.RBox[:4]), math.Round(a.RBox[4]*1e4)/1e4)
	}
	for _, poly := range a.Polygons {
		p.Polys = append(p.Polys, round(poly))
	}
	if len(a.Keypoints) > 0 {
		p.Kpts = round(a.Keypoints)
	}
	return p
}

func round(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = 0
		}
		out[i] = math.Round(x*10) / 10
	}
	return out
}
