package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/report"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// InspectCmd is `yoloarchive inspect`.
type InspectCmd struct {
	Archives []string `arg:"" name:"ARCHIVE" help:"Archive to show; several: their runs side by side (a chain's links count as one run)."`
	JSON     bool     `help:"Print the report as one JSON object."`
}

// Help is shown by --help.
func (c *InspectCmd) Help() string {
	return `Verifies the archive, then shows the run, the row count of every table, each metric's
first, last and best value, images by role, assets, single values, and its gaps: what
a live tracker would have logged that the run did not leave on disk, and why.

With several archives (or as ` + "`compare`" + `), shows their runs side by side: each run's
name, task, status, epochs and version, then for every metric each run's best value
(highest for metrics/*, lowest for losses), the epoch it was reached at, and the
final value, with the best run marked. The links of a chain count as one run.

` + exitCodesHelp
}

// inspectReport is what inspect shows.
type inspectReport struct {
	Archive string `json:"archive"`
	Size    int64  `json:"size"`
	Digest  string `json:"digest"`
	Format  string `json:"format_version"`
	Writer  string `json:"writer"`
	// Chain is set for a link of a chain (capture --follow), which holds
	// only what changed since the link before it.
	Chain       *schemas.ChainLink `json:"chain,omitempty"`
	Run         schemas.RunRow     `json:"run"`
	Tables      []tableCount       `json:"tables"`
	Metrics     []metricSummary    `json:"metrics"`
	Images      []roleCount        `json:"images"`
	Annotations []layerCount       `json:"annotations"`
	Assets      []schemas.AssetRow `json:"assets"`
	Summary     []summaryValue     `json:"summary"`
	Gaps        []schemas.GapRow   `json:"gaps"`
}

type tableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

type metricSummary struct {
	Metric    string     `json:"metric"`
	Points    int        `json:"points"`
	First     jsonFloat  `json:"first"`
	Last      jsonFloat  `json:"last"`
	Goal      string     `json:"goal,omitempty"` // "max", "min" or ""
	Best      *jsonFloat `json:"best,omitempty"`
	BestEpoch *int64     `json:"best_epoch,omitempty"`
}

type roleCount struct {
	Role   string `json:"role"`
	Count  int    `json:"count"`
	Stored int    `json:"stored"`
	Bytes  int64  `json:"bytes"`
}

type layerCount struct {
	Layer       string `json:"layer"`
	Annotations int64  `json:"annotations"`
	Images      int    `json:"images"`
	Polygons    int64  `json:"with_polygons"`
}

type summaryValue struct {
	Key    string    `json:"key"`
	Value  jsonFloat `json:"value"`
	Exact  bool      `json:"exact"`
	Origin string    `json:"origin"`
}

// jsonFloat marshals NaN and ±Inf as the strings "NaN", "Infinity" and
// "-Infinity", which JSON cannot otherwise carry.
type jsonFloat float64

// MarshalJSON implements json.Marshaler.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// Run shows the archive.
func (c *InspectCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	if len(c.Archives) > 1 {
		return c.runCompare(ctx, g, stdout, stderr)
	}
	rep, err := buildInspect(ctx, c.Archives[0])
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printInspect(stdout, rep)
	return nil
}

func buildInspect(ctx context.Context, path string) (*inspectReport, error) {
	a, err := archive.Open(ctx, path)
	if err != nil {
		return nil, errors.New(withPath(path, describeArchiveErr(err)))
	}
	defer a.Close()
	rep := &inspectReport{Archive: path, Size: a.Size, Digest: a.Digest, Format: a.Header.FormatVersion, Writer: a.Header.Writer, Chain: a.Header.Chain}
	runs, err := archive.ReadTable[schemas.RunRow](ctx, a, schemas.TableRun)
	if err != nil || len(runs) != 1 {
		return nil, fmt.Errorf("%s: run table: want one row (%v)", path, err)
	}
	rep.Run = runs[0]
	for _, t := range a.Header.Tables {
		rep.Tables = append(rep.Tables, tableCount{t, a.Rows(t)})
	}
	if rep.Metrics, err = metricSummaries(ctx, a); err != nil {
		return nil, err
	}
	if rep.Images, err = imageRoles(ctx, a); err != nil {
		return nil, err
	}
	if rep.Annotations, err = annotationLayers(ctx, a); err != nil {
		return nil, err
	}
	if rep.Assets, err = archive.ReadTable[schemas.AssetRow](ctx, a, schemas.TableAssets); err != nil {
		return nil, err
	}
	sum, err := archive.ReadTable[schemas.SummaryRow](ctx, a, schemas.TableSummary)
	if err != nil {
		return nil, err
	}
	for _, s := range sum {
		rep.Summary = append(rep.Summary, summaryValue{s.Key, jsonFloat(s.Value), s.Exact, s.Origin})
	}
	if rep.Gaps, err = archive.ReadTable[schemas.GapRow](ctx, a, schemas.TableGaps); err != nil {
		return nil, err
	}
	return rep, nil
}

func metricSummaries(ctx context.Context, a *archive.Archive) ([]metricSummary, error) {
	byName := map[string]*metricSummary{}
	var order []string
	err := archive.ScanTable(ctx, a, schemas.TableScalars, func(rows []schemas.ScalarRow) error {
		for _, r := range rows {
			m := byName[r.Metric]
			if m == nil {
				m = &metricSummary{Metric: r.Metric, First: jsonFloat(r.Value), Goal: report.Goal(r.Metric)}
				byName[r.Metric] = m
				order = append(order, r.Metric)
			}
			m.Points++
			m.Last = jsonFloat(r.Value)
			if m.Goal == "" || math.IsNaN(r.Value) {
				continue
			}
			if m.Best == nil || (m.Goal == "max" && r.Value > float64(*m.Best)) || (m.Goal == "min" && r.Value < float64(*m.Best)) {
				v, e := jsonFloat(r.Value), r.Epoch
				m.Best, m.BestEpoch = &v, &e
			}
		}
		return nil
	})
	out := make([]metricSummary, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out, err
}

func imageRoles(ctx context.Context, a *archive.Archive) ([]roleCount, error) {
	byRole := map[string]*roleCount{}
	err := archive.ScanTable(ctx, a, schemas.TableImages, func(rows []schemas.ImageRow) error {
		for _, r := range rows {
			rc := byRole[r.Role]
			if rc == nil {
				rc = &roleCount{Role: r.Role}
				byRole[r.Role] = rc
			}
			rc.Count++
			if r.Blob != "" {
				rc.Stored++
				rc.Bytes += r.Size
			}
		}
		return nil
	})
	out := make([]roleCount, 0, len(byRole))
	for _, rc := range byRole {
		out = append(out, *rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Role < out[j].Role })
	return out, err
}

func annotationLayers(ctx context.Context, a *archive.Archive) ([]layerCount, error) {
	byLayer := map[string]*layerCount{}
	images := map[string]map[string]bool{}
	err := archive.ScanTable(ctx, a, schemas.TableAnnotations, func(rows []schemas.AnnotationRow) error {
		for _, r := range rows {
			lc := byLayer[r.Layer]
			if lc == nil {
				lc = &layerCount{Layer: r.Layer}
				byLayer[r.Layer] = lc
				images[r.Layer] = map[string]bool{}
			}
			lc.Annotations++
			images[r.Layer][r.Image] = true
			if len(r.Polygons) > 0 {
				lc.Polygons++
			}
		}
		return nil
	})
	out := make([]layerCount, 0, len(byLayer))
	for l, lc := range byLayer {
		lc.Images = len(images[l])
		out = append(out, *lc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Layer < out[j].Layer })
	return out, err
}

func printInspect(w io.Writer, rep *inspectReport) {
	r := rep.Run
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	printf(tw, "archive\t%s (%s, format %s, written by %s)\n", rep.Archive, humanBytes(rep.Size), rep.Format, rep.Writer)
	printf(tw, "digest\tsha256:%s\n", rep.Digest)
	if c := rep.Chain; c != nil {
		what := "holds only what changed since the link before it"
		if c.Seq == 0 {
			what = "holds what the first look found"
		}
		if c.Final {
			what += "; the final link (training ended)"
		}
		printf(tw, "chain\tlink %d: %s; capture --compact gives one archive of the whole run\n", c.Seq, what)
	}
	printf(tw, "run\t%s\n", r.RunID)
	printf(tw, "source\t%s %q (%s)\n", r.SourceKind, r.SourceName, r.SaveDir)
	printf(tw, "name\tproject %q, name %q\n", r.Project, r.Name)
	printf(tw, "task\t%s %s, status %s\n", r.Task, r.Mode, r.Status)
	epochs := fmt.Sprintf("%d", r.EpochsCompleted)
	if r.EpochsPlanned != nil {
		epochs += fmt.Sprintf(" of %d", *r.EpochsPlanned)
	}
	if r.BestEpoch != nil {
		epochs += fmt.Sprintf(", best %d", *r.BestEpoch)
	}
	if r.ResultsFormat != "" {
		printf(tw, "epochs\t%s (results.csv: %s, epochs from %d)\n", epochs, r.ResultsFormat, r.CSVEpochBase)
	} else {
		printf(tw, "epochs\t%s\n", epochs)
	}
	if r.SessionID != "" {
		sess := r.SessionID
		if len(r.Tags) > 0 {
			sess += fmt.Sprintf(", tags %s", strings.Join(r.Tags, ", "))
		}
		printf(tw, "session\t%s\n", sess)
	}
	printf(tw, "version\t%s\n", report.VersionText(r))
	if r.StartedAt != nil {
		printf(tw, "time\t%s to %s (%s)\n", r.StartedAt.Format("2006-01-02 15:04:05Z07:00"), r.EndedAt.Format("2006-01-02 15:04:05Z07:00"), r.TimeSource)
	}
	ds := orDash(r.Dataset)
	if r.DatasetResolved {
		ds += " (resolved"
		if r.TrainImages != nil {
			ds += fmt.Sprintf(", %d train images", *r.TrainImages)
		}
		ds += ")"
	} else if r.Dataset != "" {
		ds += " (not found on the capturing machine)"
	}
	printf(tw, "dataset\t%s\n", ds)
	if len(r.ClassNames) > 0 {
		printf(tw, "classes\t%d: %s\n", len(r.ClassNames), strings.Join(r.ClassNames, ", "))
	}
	var tables []string
	for _, t := range rep.Tables {
		tables = append(tables, fmt.Sprintf("%s %d", t.Table, t.Rows))
	}
	printf(tw, "tables\t%s\n", strings.Join(tables, ", "))
	tw.Flush()

	if len(rep.Metrics) > 0 {
		fmt.Fprintln(w, "\nmetrics")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  name\tpoints\tfirst\tlast\tbest\tepoch")
		for _, m := range rep.Metrics {
			best, ep := "-", "-"
			if m.Best != nil {
				best, ep = fmtFloat(float64(*m.Best)), strconv.FormatInt(*m.BestEpoch, 10)
			}
			printf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", m.Metric, m.Points, fmtFloat(float64(m.First)), fmtFloat(float64(m.Last)), best, ep)
		}
		tw.Flush()
	}
	if len(rep.Summary) > 0 {
		fmt.Fprintln(w, "\nsummary")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range rep.Summary {
			exact := "exact"
			if !s.Exact {
				exact = "approximate"
			}
			printf(tw, "  %s\t%s\t%s\n", s.Key, fmtFloat(float64(s.Value)), exact)
		}
		tw.Flush()
	}
	if len(rep.Images) > 0 {
		fmt.Fprintln(w, "\nimages")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, ic := range rep.Images {
			printf(tw, "  %s\t%d\t%d stored\t%s\n", ic.Role, ic.Count, ic.Stored, humanBytes(ic.Bytes))
		}
		tw.Flush()
	}
	if len(rep.Annotations) > 0 {
		fmt.Fprintln(w, "\nannotations")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, lc := range rep.Annotations {
			printf(tw, "  %s\t%d on %d images\t%d with polygons\n", lc.Layer, lc.Annotations, lc.Images, lc.Polygons)
		}
		tw.Flush()
	}
	if len(rep.Assets) > 0 {
		fmt.Fprintln(w, "\nassets")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, as := range rep.Assets {
			printf(tw, "  %s\t%s\t%s\n", as.Role, as.FileName, humanBytes(as.Size))
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\ngaps (what a live tracker would have logged that the run did not leave on disk)")
	if len(rep.Gaps) == 0 {
		fmt.Fprintln(w, "  nothing")
	}
	for _, g := range rep.Gaps {
		affects := ""
		if len(g.Affects) > 0 {
			affects = " [" + strings.Join(g.Affects, ", ") + "]"
		}
		printf(w, "  %s%s: %s\n", g.Item, affects, g.Reason)
		if g.Hint != "" {
			printf(w, "    to recover: %s\n", g.Hint)
		}
	}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
