package main

import (
	"context"
	"encoding/json"
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
	seen := map[string]bool{} // the chains checked
	for _, p := range c.Archives {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep := verifyReport{Archive: p, Status: "ok"}
		a, done, err := verifyComplete(ctx, p)
		switch {
		case done && err == nil:
			rep.RunID, rep.Digest, rep.Entries, rep.Size = a.Header.RunID, a.Digest, len(a.Manifest.Entries)+1, a.Size
		case done:
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			// Named as a link, not a regular file, or a chain: resolved
			// as before, a chain checked once, whole.
			var t chain.Target
			t, err = chain.Resolve(p)
			if err == nil && t.Chain {
				if seen[t.Path] {
					continue
				}
				seen[t.Path] = true
				rep.Archive = t.Path
				err = c.verifyChain(ctx, t, &rep)
			} else if err == nil {
				if a, err = archive.Verify(ctx, p); err == nil {
					rep.RunID, rep.Digest, rep.Entries, rep.Size = a.Header.RunID, a.Digest, len(a.Manifest.Entries)+1, a.Size
				}
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

// verifyChain checks every link completely and that they follow one
// another, with no link missing.
func (c *VerifyCmd) verifyChain(ctx context.Context, t chain.Target, rep *verifyReport) error {
	base := t.Path
	if len(t.Orphans) > 0 {
		return fmt.Errorf("%s: %w: link %d is missing before %s", base, chain.ErrBroken, len(t.Links), t.Orphans[0])
	}
	for _, l := range t.Links {
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

// verifyComplete verifies p when it is an archive of its own, the common
// case, without resolving it as a chain first: chain.Resolve reads the
// header, which Verify reads again (the first zstd block decoded twice,
// ~4% of a small verify). An archive that fails is done too, with Verify's
// error, unless its header names a chain, as chain.Resolve would have
// found. done is false when p is named as a chain link, is not a regular
// file, or its header names a chain: the caller resolves it then, as
// before.
func verifyComplete(ctx context.Context, p string) (a *archive.Archive, done bool, err error) {
	if _, _, link := chain.SplitLink(p); link {
		return nil, false, nil
	}
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return nil, false, nil
	}
	a, err = archive.Verify(ctx, p)
	switch {
	case err == nil && a.Header.Chain == nil:
		return a, true, nil
	case err == nil:
		return nil, false, nil // a link under another name
	case ctx.Err() != nil:
		return nil, true, ctx.Err()
	}
	if h, herr := archive.ReadHeader(p); herr == nil && h.Chain != nil {
		return nil, false, nil // a damaged link: the chain's to report
	}
	return nil, true, err
}
