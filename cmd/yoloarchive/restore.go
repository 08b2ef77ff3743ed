package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/yoloarchive/yoloarchive/convert/restore"
)

// RestoreCmd is `yoloarchive restore`.
type RestoreCmd struct {
	Archive   string `arg:"" name:"ARCHIVE" help:"Archive to restore (a chain: any link, or its NAME.tar.zst)."`
	Out       string `short:"o" required:"" placeholder:"DIR" help:"Run directory to write (must not exist, or be empty)."`
	Overwrite bool   `help:"Replace DIR even if it is not empty (the old one is removed once the new one is complete)."`
	JSON      bool   `help:"Print the result as one JSON object on stdout."`
}

// Help is shown by --help.
func (c *RestoreCmd) Help() string {
	return `Writes the run directory back from its archive: every file the archive stores, at its
original path, byte for byte (args.yaml, results.csv, weights, images, ...), checked
against its sha256. The links of a chain (capture --follow) restore as one run.
Capturing the restored directory gives the same tables.

Not restored, and said so as gaps: files the capture left out (weights, dataset
images beyond --dataset-images), the dataset's own images, the files of a session
merged with --session, and what archives do not store: per-file modification times
(files get the run's end time, args.yaml its start time, as the run table records
them), modes and owners.

The directory is written beside DIR under a temporary name and renamed into place
when complete: a failed or interrupted restore leaves nothing. DIR must not be a
symbolic link.

` + exitCodesHelp
}

type restoreReport struct {
	Archive string `json:"archive"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	*restore.Result
}

// Run restores the archive.
func (c *RestoreCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	res, err := restore.Restore(ctx, c.Archive, c.Out, restore.Options{Overwrite: c.Overwrite})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep := restoreReport{Archive: c.Archive, Status: "ok", Result: res}
	if err != nil {
		rep.Status, rep.Error = statusFailed, describeArchiveErr(err)
	}
	switch {
	case c.JSON:
		b, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(b))
	case err != nil:
		problemLine(stderr, statusFailed, c.Archive, rep.Error)
	case !g.Quiet:
		links := ""
		if res.Links > 0 {
			links = fmt.Sprintf(", chain of %d links", res.Links)
		}
		printf(stdout, "%s -> %s (run %s%s, %d files, %s)\n", res.Archive, res.Dir, res.RunID, links, res.Files, humanBytes(res.Bytes))
		if g.Verbose {
			printGaps(stdout, res.Gaps)
		} else {
			var t gapTally
			t.add(res.Gaps)
			t.print(stdout, 1, "archives", "")
		}
	}
	if err != nil {
		return outcome(0, 1)
	}
	return nil
}
