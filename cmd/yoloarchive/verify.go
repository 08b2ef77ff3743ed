package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
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
The links of a chain (capture --follow) are checked as one: each link completely,
then that each names its predecessor's digest, that none is missing and that
nothing follows the final link.

` + exitCodesHelp
}

type verifyReport struct {
	Archive string `json:"archive"`
	// Links and Final describe a chain (capture --follow).
	Links   int    `json:"links,omitempty"`
	Final   *bool  `json:"final,omitempty"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	RunID   string `json:"run_id,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Entries int    `json:"entries,omitempty"`
	Size    int64  `json:"size,omitempty"`
}

// Run verifies the archives.
func (c *VerifyCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	var ok, failed int
	for _, p := range verifyTargets(c.Archives) {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep := verifyReport{Archive: p, Status: "ok"}
		var err error
		if base, _, ok := chain.SplitLink(p); ok && isLink(p) {
			rep.Archive = base
			err = c.verifyChain(ctx, base, &rep)
		} else if _, statErr := os.Stat(p); errors.Is(statErr, os.ErrNotExist) && isChain(p) {
			err = c.verifyChain(ctx, p, &rep)
		} else {
			var a *archive.Archive
			if a, err = archive.Verify(ctx, p); err == nil {
				rep.RunID, rep.Digest, rep.Entries, rep.Size = a.Header.RunID, a.Digest, len(a.Manifest.Entries)+1, a.Size
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.Status, rep.Error = statusFailed, describeArchiveErr(err)
			failed++
		} else {
			ok++
		}
		switch {
		case c.JSON:
			b, _ := json.Marshal(rep)
			fmt.Fprintln(stdout, string(b))
		case rep.Status == statusFailed:
			printf(stdout, "failed  %s\n", withPath(p, rep.Error))
		case g.Quiet:
		case rep.Final != nil:
			state := "open: training had not ended at the last link"
			if *rep.Final {
				state = "final"
			}
			printf(stdout, "ok      %s  run %s  chain of %d links, %s  head %s  %s\n", p, rep.RunID, rep.Links, state, rep.Digest, humanBytes(rep.Size))
		default:
			printf(stdout, "ok      %s  run %s  digest %s  %d entries  %s\n", p, rep.RunID, rep.Digest, rep.Entries, humanBytes(rep.Size))
		}
	}
	return outcome(ok, failed)
}

// isLink reports whether the archive at p is a chain link (by its header).
func isLink(p string) bool {
	h, err := archive.ReadHeader(p)
	return err == nil && h.Chain != nil
}

// isChain reports whether base names a chain with links on disk.
func isChain(base string) bool {
	links, _, _ := chain.Files(base)
	return len(links) > 0
}

// verifyChain checks every link completely and that they follow one
// another, with no link missing.
func (c *VerifyCmd) verifyChain(ctx context.Context, base string, rep *verifyReport) error {
	links, orphans, err := chain.Files(base)
	if err != nil {
		return err
	}
	if len(orphans) > 0 {
		return fmt.Errorf("%s: %w: link %d is missing before %s", base, chain.ErrBroken, len(links), orphans[0])
	}
	for _, l := range links {
		a, err := archive.Verify(ctx, l)
		if err != nil {
			return err
		}
		rep.Size += a.Size
		rep.Entries += len(a.Manifest.Entries) + 1
	}
	ch, err := chain.Open(ctx, base)
	if err != nil {
		return err
	}
	defer ch.Close()
	final := ch.Final()
	rep.RunID, rep.Digest, rep.Links, rep.Final = ch.RunID(), ch.Head(), len(ch.Links), &final
	return nil
}

// verifyTargets keeps one link of each chain among paths (the chain is
// checked as a whole) and every other path.
func verifyTargets(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		if base, _, ok := chain.SplitLink(p); ok && isLink(p) {
			if seen[base] {
				continue
			}
			seen[base] = true
		}
		out = append(out, p)
	}
	return out
}
