package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert/report"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
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

// inspectReport is what inspect shows, in its --json form. It is never
// built whole: inspect aggregates the head from the archive
// ([inspection]) and streams the summary, assets and gaps from their
// tables as it prints them, so that memory is bounded by the distinct
// metrics, roles and images, not by the tables.
type inspectReport struct {
	inspectHead
	Assets  []schemas.AssetRow `json:"assets"`
	Summary []summaryValue     `json:"summary"`
	Gaps    []inspectGap       `json:"gaps"`
}

// inspectHead is what inspect aggregates before it prints: everything
// but the rows it prints one by one.
type inspectHead struct {
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
}

type tableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

type metricSummary struct {
	Metric    string         `json:"metric"`
	Points    int            `json:"points"`
	First     report.Number  `json:"first"`
	Last      report.Number  `json:"last"`
	Goal      string         `json:"goal,omitempty"` // "max", "min" or ""
	Best      *report.Number `json:"best,omitempty"`
	BestEpoch *int64         `json:"best_epoch,omitempty"`
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
	Key    string        `json:"key"`
	Value  report.Number `json:"value"`
	Exact  bool          `json:"exact"`
	Origin string        `json:"origin"`
}

// Run shows the archive.
func (c *InspectCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	if len(c.Archives) > 1 {
		return c.runCompare(ctx, g, stdout, stderr)
	}
	in, err := openInspect(ctx, c.Archives[0])
	if err != nil {
		return err
	}
	defer in.Close()
	if c.JSON {
		return writeInspectJSON(ctx, stdout, in)
	}
	return printInspect(ctx, stdout, in)
}

// inspection is an open archive and the head inspect aggregated from
// it; its summary, assets and gaps are read from the archive as they
// are printed.
type inspection struct {
	inspectHead
	a *archive.Archive
}

// Close closes the archive.
func (in *inspection) Close() error { return in.a.Close() }

// openInspect opens and verifies the archive and aggregates its head:
// the run, the row counts, and the metrics, image roles and annotation
// layers, each table read in batches.
func openInspect(ctx context.Context, path string) (_ *inspection, err error) {
	a, err := archive.Open(ctx, path)
	if err != nil {
		return nil, errors.New(withPath(path, describeArchiveErr(err)))
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	in := &inspection{a: a, inspectHead: inspectHead{Archive: path, Size: a.Size, Digest: a.Digest, Format: a.Header.FormatVersion, Writer: a.Header.Writer, Chain: a.Header.Chain}}
	if n := a.Rows(schemas.TableRun); n != 1 {
		return nil, fmt.Errorf("%s: run table: %d rows, want one", path, n)
	}
	runs, err := archive.ReadTable[schemas.RunRow](ctx, a, schemas.TableRun)
	if err != nil || len(runs) != 1 {
		return nil, fmt.Errorf("%s: run table: want one row (%v)", path, err)
	}
	in.Run = runs[0]
	for _, t := range a.Header.Tables {
		in.Tables = append(in.Tables, tableCount{t, a.Rows(t)})
	}
	if in.Metrics, err = metricSummaries(ctx, a); err != nil {
		return nil, err
	}
	if in.Images, err = imageRoles(ctx, a); err != nil {
		return nil, err
	}
	if in.Annotations, err = annotationLayers(ctx, a); err != nil {
		return nil, err
	}
	return in, nil
}

// inspectGap is a gap row with the trackers it matters to, as their
// registered destinations say (sync.GapTrackers): rows record facts only.
type inspectGap struct {
	Item    string   `json:"item"`
	Reason  string   `json:"reason"`
	Affects []string `json:"affects,omitempty"`
	Hint    string   `json:"hint"`
}

func newInspectGap(g schemas.GapRow) inspectGap {
	return inspectGap{Item: g.Item, Reason: g.Reason, Affects: ysync.GapTrackers(g.Item), Hint: g.Hint}
}

// eachRow calls fn for every row of a table, read in batches.
func eachRow[T any](ctx context.Context, a *archive.Archive, table string, fn func(T) error) error {
	return archive.ScanTable(ctx, a, table, func(rows []T) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func summaryRow(s schemas.SummaryRow) summaryValue {
	return summaryValue{s.Key, report.Number(s.Value), s.Exact, s.Origin}
}

// writeInspectJSON writes the report as one indented JSON object (as
// json.Encoder with a two-space indent writes an inspectReport), the
// assets, summary and gaps streamed row by row.
func writeInspectJSON(ctx context.Context, w io.Writer, in *inspection) error {
	head, err := json.MarshalIndent(in.inspectHead, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(bytes.TrimSuffix(head, []byte("\n}")))
	err = errors.Join(
		jsonArray(ctx, bw, in.a, "assets", schemas.TableAssets, func(r schemas.AssetRow) any { return r }),
		jsonArray(ctx, bw, in.a, "summary", schemas.TableSummary, func(r schemas.SummaryRow) any { return summaryRow(r) }),
		jsonArray(ctx, bw, in.a, "gaps", schemas.TableGaps, func(g schemas.GapRow) any { return newInspectGap(g) }),
	)
	if err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// jsonArray writes `,"key": [rows…]` at the report's indentation, one
// row at a time; a table without rows is null, as a nil slice is.
func jsonArray[T any](ctx context.Context, w *bufio.Writer, a *archive.Archive, key, table string, conv func(T) any) error {
	fmt.Fprintf(w, ",\n  %q: ", key)
	n := 0
	err := eachRow(ctx, a, table, func(r T) error {
		b, err := json.MarshalIndent(conv(r), "    ", "  ")
		if err != nil {
			return err
		}
		if n == 0 {
			w.WriteString("[\n    ")
		} else {
			w.WriteString(",\n    ")
		}
		n++
		_, err = w.Write(b)
		return err
	})
	if n == 0 {
		w.WriteString("null")
	} else {
		w.WriteString("\n  ]")
	}
	return err
}

// metricSummaries is report's Tally of the scalars, under each metric's
// name in the archive.
func metricSummaries(ctx context.Context, a *archive.Archive) ([]metricSummary, error) {
	var t report.Tally
	err := archive.ScanTable(ctx, a, schemas.TableScalars, func(rows []schemas.ScalarRow) error {
		t.Add(rows)
		return nil
	})
	vals := t.Values()
	out := make([]metricSummary, len(vals))
	for i, v := range vals {
		name := v.Metric
		if v.Original != "" {
			name = v.Original
		}
		out[i] = metricSummary{Metric: name, Points: v.Points, First: report.Number(v.First), Last: report.Number(v.Final),
			Goal: v.Goal, BestEpoch: v.BestEpoch}
		if v.Best != nil {
			b := report.Number(*v.Best)
			out[i].Best = &b
		}
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

// tabBlock is how many lines of a table inspect aligns at a time: a
// tabwriter holds its lines until flushed, and a table (the summary, the
// assets) may have millions.
const tabBlock = 1024

// printInspect prints the report as text, the summary, assets and gaps
// read from the archive as they are printed.
func printInspect(ctx context.Context, out io.Writer, rep *inspection) error {
	w := bufio.NewWriterSize(out, 64<<10)
	defer w.Flush()
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
	tw = nil
	lines := 0
	err := eachRow(ctx, rep.a, schemas.TableSummary, func(row schemas.SummaryRow) error {
		if tw == nil {
			fmt.Fprintln(w, "\nsummary")
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		}
		s := summaryRow(row)
		exact := "exact"
		if !s.Exact {
			exact = "approximate"
		}
		printf(tw, "  %s\t%s\t%s\n", s.Key, fmtFloat(float64(s.Value)), exact)
		if lines++; lines%tabBlock == 0 {
			return tw.Flush()
		}
		return nil
	})
	if tw != nil {
		tw.Flush()
	}
	if err != nil {
		return err
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
	tw = nil
	lines = 0
	err = eachRow(ctx, rep.a, schemas.TableAssets, func(as schemas.AssetRow) error {
		if tw == nil {
			fmt.Fprintln(w, "\nassets")
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		}
		printf(tw, "  %s\t%s\t%s\n", as.Role, as.FileName, humanBytes(as.Size))
		if lines++; lines%tabBlock == 0 {
			return tw.Flush()
		}
		return nil
	})
	if tw != nil {
		tw.Flush()
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\ngaps (what a live tracker would have logged that the run did not leave on disk)")
	gaps := 0
	err = eachRow(ctx, rep.a, schemas.TableGaps, func(g schemas.GapRow) error {
		gaps++
		affects := ""
		if trackers := ysync.GapTrackers(g.Item); len(trackers) > 0 {
			affects = " [" + strings.Join(trackers, ", ") + "]"
		}
		printf(w, "  %s%s: %s\n", g.Item, affects, g.Reason)
		if g.Hint != "" {
			printf(w, "    to recover: %s\n", g.Hint)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if gaps == 0 {
		fmt.Fprintln(w, "  nothing")
	}
	return w.Flush()
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
