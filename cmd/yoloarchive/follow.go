package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/convert"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// follow is `capture --follow`: it extends the run's delta chain until
// training ends (or once, with --once).
func (c *CaptureCmd) follow(ctx context.Context, stdout *Stdout, stderr *Stderr) error {
	src := c.Src[0]
	opts := c.options(1)
	base := c.file
	for base == "" {
		// The chain is named after the run, known once args.yaml is
		// written.
		name, id, err := convert.Identify(ctx, src, opts)
		if err == nil {
			dir := c.dir
			if dir == "" {
				dir = "."
			}
			base = filepath.Join(dir, archiveName(name, id))
			break
		}
		if !errors.Is(err, convert.ErrNotReady) {
			return err
		}
		printf(stderr, "waiting: %s\n", oneLine(err.Error()))
		if c.Once {
			return nil
		}
		if err := ysync.Sleep(ctx, c.Every); err != nil {
			return err
		}
	}
	if !strings.HasSuffix(base, ".tar.zst") {
		return fmt.Errorf("-o %s: a chain's name must end in .tar.zst (its links are NAME.000.tar.zst, ...)", base)
	}
	f, err := convert.NewFollower(ctx, src, base, convert.FollowOptions{Capture: opts, Settle: c.Settle})
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Final() {
		printf(stderr, "%s: the chain already ends with its final link (%d links): nothing to follow\n", base, f.Links())
		return nil
	}
	report := func(l *convert.Link, err error) {
		switch {
		case err != nil:
			printf(stderr, "waiting: %s\n", oneLine(err.Error()))
		case c.JSON:
			b, _ := json.Marshal(l)
			fmt.Fprintln(stdout, string(b))
		case l.Final:
			printf(stdout, "%s: final link %d (%d epochs, +%d rows, +%d files): training ended\n", l.Path, l.Seq, l.Epochs, l.Rows, l.Blobs)
		default:
			printf(stdout, "%s: link %d (%d epochs, +%d rows, +%d files)\n", l.Path, l.Seq, l.Epochs, l.Rows, l.Blobs)
		}
	}
	if c.Once {
		l, err := f.Step(ctx)
		if err != nil && !errors.Is(err, convert.ErrNotReady) {
			return err
		}
		if l != nil || err != nil {
			report(l, err)
		}
		return nil
	}
	if !c.JSON {
		printf(stderr, "following %s into %s every %s (Ctrl-C stops; running the command again continues the chain)\n", src, chain.LinkPath(base, f.Links()), c.Every)
	}
	if err := convert.Follow(ctx, f, c.Every, report); err != nil {
		if ctx.Err() != nil {
			printf(stderr, "stopped: %s has %d links and no final link yet; run the same command to continue, or capture --compact %s for one archive of the run so far\n", base, f.Links(), base)
		}
		return err
	}
	return nil
}

// compact is `capture --compact`: one complete archive of a chain.
func (c *CaptureCmd) compact(ctx context.Context, stdout *Stdout) error {
	base := c.Src[0]
	if b, _, ok := chain.SplitLink(base); ok {
		base = b
	}
	dst := c.file
	if dst == "" {
		dst = base
		if c.dir != "" {
			dst = filepath.Join(c.dir, filepath.Base(base))
		}
	}
	digest, err := convert.Compact(ctx, base, dst, c.options(1))
	if err != nil {
		return err
	}
	printf(stdout, "%s: the chain %s in one archive (digest %.12s)\n", dst, chain.LinkPath(base, 0), digest)
	return nil
}
