package report

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
)

// run is one input opened: an archive, or a chain's links merged.
type run struct {
	path   string
	links  int
	tables *archive.Tables
	a      *archive.Archive
	c      *chain.Chain
}

// open opens and verifies an archive, or every link of a chain when path
// names one, and loads its tables (a chain's merged).
func open(ctx context.Context, path string) (*run, error) {
	target, err := chain.Resolve(path)
	if err != nil {
		return nil, err
	}
	if target.Chain {
		c, err := chain.Open(ctx, target.Path)
		if err != nil {
			return nil, err
		}
		t, err := c.Merged(0)
		if err != nil {
			c.Close()
			return nil, err
		}
		return &run{path: c.Base, links: len(c.Links), tables: t, c: c}, nil
	}
	a, err := archive.Open(ctx, path)
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	t, err := archive.LoadTables(a)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &run{path: path, tables: t, a: a}, nil
}

func (r *run) close() error {
	if r.c != nil {
		return r.c.Close()
	}
	return r.a.Close()
}

// blobs streams the blobs named in want (each link of a chain read once)
// and calls fn with each one's digest and bytes, verified.
func (r *run) blobs(ctx context.Context, want map[string]bool, fn func(digest string, data []byte) error) error {
	read := func(a *archive.Archive) error {
		return a.Blobs(ctx, func(d string) bool { return want[d] }, func(e *archive.Entry) error {
			data, err := io.ReadAll(e)
			if err != nil {
				return err
			}
			return fn(e.Key, data)
		})
	}
	if r.c == nil {
		return read(r.a)
	}
	byLink := map[*archive.Archive]bool{}
	for d := range want {
		if a := r.c.Archive(d); a != nil {
			byLink[a] = true
		}
	}
	for _, a := range r.c.Links {
		if byLink[a] {
			if err := read(a); err != nil {
				return err
			}
		}
	}
	return nil
}
