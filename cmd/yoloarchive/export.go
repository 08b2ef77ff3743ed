package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert/export"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// ExportCmd is `yoloarchive export`.
type ExportCmd struct {
	Archives []string `arg:"" name:"ARCHIVE" help:"Archives to export (a chain's links are one run)."`
	Format   string   `short:"f" enum:"parquet,arrow,csv" default:"parquet" help:"parquet (Hive-partitioned dataset), arrow (Arrow IPC streams) or csv."`
	Out      string   `short:"o" required:"" placeholder:"DIR" help:"Dataset directory (created; runs already in it are replaced whole)."`
	Jobs     int      `short:"j" default:"0" placeholder:"N" help:"Archives to export in parallel (default: number of CPUs, at most 4)."`
	JSON     bool     `help:"Print one JSON object per archive on stdout."`
}

// Help is shown by --help.
func (c *ExportCmd) Help() string {
	return `Writes every table of each archive below DIR as table=<name>/run=<run id>/part-0.<ext>:
a Hive-partitioned dataset that DuckDB, Spark, Trino, pyarrow and polars read as one
table per name, whatever the runs' versions (the same columns for all; scalars gain
run_id and a unified metric name beside metric_original). Each archive is verified
first; each file is written whole or not at all. A chain of capture --follow (any of
its links, or its base name) is one run, its links merged, as sync replays it. Example:

  duckdb -c "SELECT run, max(value) FROM read_parquet('DIR/table=scalars/*/*.parquet',
             hive_partitioning = true) WHERE metric = 'metrics/mAP50-95(B)' GROUP BY run"

` + exitCodesHelp
}

type exportReport struct {
	Archive string `json:"archive"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	*export.Result
}

// Run exports the archives.
func (c *ExportCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = min(runtime.GOMAXPROCS(0), 4)
	}
	// The links of a chain (run.000.tar.zst, ...) are one run, merged; a
	// chain and a complete archive of its run are not both exported.
	paths, notes := chain.Group(c.Archives)
	for _, n := range notes {
		printLine(stderr, n)
	}
	var prog *ysync.Progress
	if len(paths) > 1 {
		prog = g.progress(stderr, "export", "archives", len(paths))
	}
	// While bars are drawn, lines go above them.
	out, errOut := escaped(prog.Writer(stdout.Writer)), escaped(prog.Writer(stderr.Writer))
	reports := make([]exportReport, len(paths))
	var mu sync.Mutex
	runs := map[string]string{} // run id → the archive last exported for it
	// One archive's failure is its report, never the batch's: no error
	// cancels the others, and only Ctrl-C stops handing out archives.
	var pool errgroup.Group
	pool.SetLimit(max(1, jobs))
	for i := range paths {
		if ctx.Err() != nil {
			break
		}
		pool.Go(func() error {
			p := paths[i]
			rep := exportReport{Archive: p, Status: "ok"}
			task := prog.Task(strings.TrimSuffix(filepath.Base(p), ".tar.zst"))
			res, err := export.Export(ctx, p, c.Out, c.Format)
			if err != nil {
				rep.Status, rep.Error = statusFailed, describeArchiveErr(err)
			}
			task.Done(err == nil)
			rep.Result = res
			mu.Lock()
			reports[i] = rep
			if res != nil {
				if other, ok := runs[res.RunID]; ok {
					printf(errOut, "warning: %s and %s hold the same run (%s): the dataset has the tables of %s, whole\n", other, p, res.RunID, p)
				}
				runs[res.RunID] = p
			}
			switch {
			case c.JSON:
				b, _ := json.Marshal(rep)
				fmt.Fprintln(out, string(b))
			case rep.Status == statusFailed:
				problemLine(errOut, statusFailed, p, rep.Error)
			case !g.Quiet:
				var rows int64
				for _, n := range res.Rows {
					rows += n
				}
				printf(out, "%s -> %s (run %s, %d tables, %d rows)\n", p, c.Out, res.RunID, len(res.Files), rows)
			}
			if res != nil && !c.JSON {
				for _, w := range res.Warnings {
					printf(errOut, "warning: %s: %s\n", p, oneLine(w))
				}
			}
			mu.Unlock()
			return nil
		})
	}
	pool.Wait()
	prog.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var ok, failed int
	for _, r := range reports {
		if r.Status == "ok" {
			ok++
		} else {
			failed++
		}
	}
	return outcome(ok, failed)
}
