package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/yoloarchive/yoloarchive/archive"
)

// VerifyCmd is `yoloarchive verify`.
type VerifyCmd struct {
	Archives []string `arg:"" name:"ARCHIVE" help:"Archives to check."`
	JSON     bool     `help:"Print one JSON object per archive on stdout."`
}

// Help is shown by --help.
func (c *VerifyCmd) Help() string {
	return `Reads each archive from start to end and checks its structure (entry names, order,
types), every sha256 against the manifest and every blob against its name, the zstd
checksums, and that every table is readable Parquet with the recorded row count.

` + exitCodesHelp
}

type verifyReport struct {
	Archive string `json:"archive"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	RunID   string `json:"run_id,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Entries int    `json:"entries,omitempty"`
	Size    int64  `json:"size,omitempty"`
}

// Run verifies the archives.
func (c *VerifyCmd) Run(ctx context.Context, stdout *Stdout, stderr *Stderr) error {
	var ok, failed int
	for _, p := range c.Archives {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep := verifyReport{Archive: p, Status: "ok"}
		a, err := archive.Verify(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.Status, rep.Error = "error", describeArchiveErr(err)
			failed++
		} else {
			rep.RunID, rep.Digest, rep.Entries, rep.Size = a.Header.RunID, a.Digest, len(a.Manifest.Entries)+1, a.Size
			ok++
		}
		switch {
		case c.JSON:
			b, _ := json.Marshal(rep)
			fmt.Fprintln(stdout, string(b))
		case rep.Status == "ok":
			fmt.Fprintf(stdout, "ok      %s  run %s  digest %s  %d entries  %s\n", p, rep.RunID, rep.Digest, rep.Entries, humanBytes(rep.Size))
		default:
			fmt.Fprintf(stdout, "FAILED  %s\n", withPath(p, rep.Error))
		}
	}
	return outcome(ok, failed)
}
