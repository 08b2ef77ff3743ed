package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert/report"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// compareReport is what inspect shows for several archives: each run's
// best and final values, side by side.
type compareReport struct {
	Runs []compareRun `json:"runs"`
	// Metrics are every run's metrics, in order of first appearance.
	Metrics []string `json:"metrics"`
	// Notes say which inputs were taken as one run (a chain's links).
	Notes []string `json:"notes,omitempty"`
}

type compareRun struct {
	Archive string `json:"archive"`
	Status  string `json:"status"` // ok or failed
	Error   string `json:"error,omitempty"`
	// Links is the number of links of a chain (0 for an archive).
	Links           int      `json:"links,omitempty"`
	RunID           string   `json:"run_id,omitempty"`
	Name            string   `json:"name,omitempty"`
	Task            string   `json:"task,omitempty"`
	RunStatus       string   `json:"run_status,omitempty"`
	Version         string   `json:"version,omitempty"`
	EpochsCompleted int64    `json:"epochs_completed"`
	EpochsPlanned   *int64   `json:"epochs_planned,omitempty"`
	BestEpoch       *int64   `json:"best_epoch,omitempty"`
	Metrics         []runVal `json:"metrics,omitempty"`
}

// runVal is one metric of one run: its best value (for metrics with a
// goal) and epoch, and its final value and epoch.
type runVal struct {
	// Metric is the unified name (YOLOv5's metrics/mAP_0.5 is
	// metrics/mAP50(B), as export names it); Original the archive's, when
	// it differs.
	Metric     string         `json:"metric"`
	Original   string         `json:"metric_original,omitempty"`
	Goal       string         `json:"goal,omitempty"`
	Best       *report.Number `json:"best,omitempty"`
	BestEpoch  *int64         `json:"best_epoch,omitempty"`
	Final      report.Number  `json:"final"`
	FinalEpoch int64          `json:"final_epoch"`
}

// metricValues is report.Values in compare's JSON form.
func metricValues(rows []schemas.ScalarRow) []runVal {
	vals := report.Values(rows)
	out := make([]runVal, len(vals))
	for i, v := range vals {
		out[i] = runVal{Metric: v.Metric, Original: v.Original, Goal: v.Goal, BestEpoch: v.BestEpoch,
			Final: report.Number(v.Final), FinalEpoch: v.FinalEpoch}
		if v.Best != nil {
			b := report.Number(*v.Best)
			out[i].Best = &b
		}
	}
	return out
}

// compare reads every archive (a chain's links as one run) and reports
// the runs side by side. failed counts the archives that could not be
// read; they stay in the report with their error.
func compare(ctx context.Context, paths []string) (rep *compareReport, ok, failed int, err error) {
	paths, notes := chain.Group(paths)
	rep = &compareReport{Notes: notes}
	seen := map[string]bool{}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, 0, 0, err
		}
		cr := compareRun{Archive: p, Status: "ok"}
		run, err := ysync.Open(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, 0, ctx.Err()
			}
			cr.Status, cr.Error = statusFailed, describeArchiveErr(err)
			rep.Runs = append(rep.Runs, cr)
			failed++
			continue
		}
		// compare reads every value (report.Values): the scalars, which
		// a Run streams, are gathered here.
		var scalars []schemas.ScalarRow
		if err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error { scalars = append(scalars, rows...); return nil }); err != nil {
			run.Close()
			if ctx.Err() != nil {
				return nil, 0, 0, ctx.Err()
			}
			cr.Status, cr.Error = statusFailed, describeArchiveErr(err)
			rep.Runs = append(rep.Runs, cr)
			failed++
			continue
		}
		ok++
		r := run.Info
		cr.Archive, cr.Links = run.Path, len(run.Links())
		cr.RunID, cr.Name, cr.Task, cr.RunStatus = r.RunID, run.Name(), r.Task, r.Status
		cr.Version, cr.EpochsCompleted, cr.EpochsPlanned, cr.BestEpoch = report.VersionText(r), r.EpochsCompleted, r.EpochsPlanned, r.BestEpoch
		cr.Metrics = metricValues(scalars)
		run.Close()
		for _, m := range cr.Metrics {
			if !seen[m.Metric] {
				seen[m.Metric] = true
				rep.Metrics = append(rep.Metrics, m.Metric)
			}
		}
		rep.Runs = append(rep.Runs, cr)
	}
	return rep, ok, failed, nil
}

// runCompare is inspect with several archives.
func (c *InspectCmd) runCompare(ctx context.Context, g *Globals, stdout, stderr io.Writer) error {
	rep, ok, failed, err := compare(ctx, c.Archives)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, r := range rep.Runs {
			if r.Status == statusFailed {
				problemLine(stderr, statusFailed, r.Archive, r.Error)
			}
		}
		for _, n := range rep.Notes {
			printf(stderr, "note: %s\n", n)
		}
		if !g.Quiet {
			printCompare(stdout, rep)
		}
	}
	return outcome(ok, failed)
}

func printCompare(w io.Writer, rep *compareReport) {
	var runs []compareRun
	for _, r := range rep.Runs {
		if r.Status != statusFailed {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tname\ttask\tstatus\tepochs\tbest epoch\tversion\tarchive")
	for i, r := range runs {
		epochs := strconv.FormatInt(r.EpochsCompleted, 10)
		if r.EpochsPlanned != nil {
			epochs += "/" + strconv.FormatInt(*r.EpochsPlanned, 10)
		}
		best := "-"
		if r.BestEpoch != nil {
			best = strconv.FormatInt(*r.BestEpoch, 10)
		}
		archive := r.Archive
		if r.Links > 0 {
			archive += fmt.Sprintf(" (chain of %d links)", r.Links)
		}
		printf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, orDash(r.Name), orDash(r.Task), r.RunStatus, epochs, best, r.Version, archive)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nbest (epoch) and final value of each metric; * marks the best run")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"metric"}
	for i := range runs {
		head = append(head, strconv.Itoa(i+1))
	}
	printLine(tw, strings.Join(head, "\t"))
	for _, name := range rep.Metrics {
		vals := make([]*runVal, len(runs))
		var best *report.Number
		ranked := 0
		for i, r := range runs {
			for j := range r.Metrics {
				if r.Metrics[j].Metric == name {
					vals[i] = &r.Metrics[j]
				}
			}
			v := vals[i]
			if v == nil || v.Best == nil {
				continue
			}
			ranked++
			if best == nil || (v.Goal == "max" && *v.Best > *best) || (v.Goal == "min" && *v.Best < *best) {
				best = v.Best
			}
		}
		// The best run is marked when it is better than another: not
		// when every run has the same best value.
		winners := 0
		for _, v := range vals {
			if v != nil && v.Best != nil && *v.Best == *best {
				winners++
			}
		}
		cells := []string{name}
		for _, v := range vals {
			switch {
			case v == nil:
				cells = append(cells, "-")
			case v.Best == nil:
				cells = append(cells, "final "+fmtFloat(float64(v.Final)))
			default:
				mark := ""
				if *v.Best == *best && winners < ranked {
					mark = "*"
				}
				cells = append(cells, fmt.Sprintf("%s%s (%d), final %s", fmtFloat(float64(*v.Best)), mark, *v.BestEpoch, fmtFloat(float64(v.Final))))
			}
		}
		printLine(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}
