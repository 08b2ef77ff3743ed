package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/convert/report"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// ReportCmd is `yoloarchive report`.
type ReportCmd struct {
	Archives []string `arg:"" name:"ARCHIVE" help:"Archives to show (a chain's links count as one run)."`
	Out      string   `short:"o" required:"" placeholder:"FILE" help:"HTML file to write (replaced if it exists)."`
	Images   int      `default:"16" help:"Dataset images per run in the gallery, the first by file name (0: none)."`
	FullPx   int      `name:"full-px" default:"1024" help:"Long side of the full-size view a click shows (0: none, thumbnails only: the smallest report)."`
	Title    string   `default:"yoloarchive report" help:"The page's title."`
	JSON     bool     `help:"Print the result as one JSON object on stdout."`
}

// Help is shown by --help.
func (c *ReportCmd) Help() string {
	return `Writes one self-contained HTML file that shows the runs side by side: every metric's
curve by epoch (overlaid, selectable), the best value of each metric with its epoch and
the final value (sortable, the same values as inspect A B), the parameters that differ,
each run's status, epochs, version, dataset and gaps, the plots the run saved
(confusion matrices, PR curves, results) and a gallery of the stored validation and
prediction images with the ground truth and predictions drawn over them (boxes, mask
polygons, keypoints, rotated boxes), with layer toggles and a score threshold.

The page fetches nothing: the charting library (uPlot), its script and every image are
inside it, so it opens from file:// on a machine without network. Images are thumbnails;
a click shows the full size (at most --full-px pixels on the long side).

The file is written beside FILE under a temporary name and renamed into place when
complete: a failed or interrupted report leaves nothing. An archive that cannot be read
fails the report.

` + exitCodesHelp
}

type reportResult struct {
	Out    string `json:"out"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	*report.Result
}

// Run writes the report.
func (c *ReportCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	res, err := c.write(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep := reportResult{Out: c.Out, Status: "ok", Result: res}
	input := c.Out
	if err != nil {
		rep.Status, rep.Error = statusFailed, describeArchiveErr(err)
		var ie *report.InputError
		if errors.As(err, &ie) {
			input = ie.Path
		}
	}
	switch {
	case c.JSON:
		b, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(b))
	case err != nil:
		problemLine(stderr, statusFailed, input, rep.Error)
	default:
		for _, n := range res.Notes {
			printf(stderr, "note: %s\n", n)
		}
		for _, s := range res.Skipped {
			printf(stderr, "warning: image left out: %s\n", oneLine(s))
		}
		if !g.Quiet {
			printf(stdout, "%d runs -> %s (%s, %d images with %d annotations, %d plots)\n", res.Runs, c.Out, humanBytes(res.Bytes), res.Images, res.Annotations, res.Plots)
		}
	}
	if err != nil {
		return outcome(0, 1)
	}
	return nil
}

// write writes the report to a scratch file beside c.Out and renames it
// into place.
func (c *ReportCmd) write(ctx context.Context) (*report.Result, error) {
	if fi, err := os.Stat(c.Out); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory: name the HTML file to write, e.g. %s", c.Out, filepath.Join(c.Out, "report.html"))
	}
	images := c.Images
	if images == 0 {
		images = -1
	}
	// FILE's folder is made when it does not exist, as capture -o does,
	// and removed again if the report fails.
	dir := filepath.Dir(c.Out)
	var made []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(dir, scratch.DirMode()); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	unmake := func() {
		for _, d := range made {
			os.Remove(d) // only if still empty
		}
	}
	f, err := scratch.Create(dir, filepath.Base(c.Out))
	if err != nil {
		unmake()
		return nil, fmt.Errorf("create %s: %w", c.Out, err)
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 1<<20)
	full := c.FullPx
	if full <= 0 {
		full = -1
	}
	res, err := report.Write(ctx, c.Archives, bw, report.Options{Images: images, FullPx: full, Title: c.Title, Version: version(), GapTrackers: ysync.GapTrackers})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(scratch.FileMode())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = scratch.Rename(tmp, c.Out)
	}
	if err != nil {
		scratch.Remove(tmp)
		unmake()
		return nil, err
	}
	return res, nil
}
