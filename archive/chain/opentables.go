package chain

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Opened is what a command that reads runs opens from one path: a
// complete archive, or every link of a chain, verified, with the tables
// loaded (a chain's merged).
type Opened struct {
	// Path is the archive's file, or the chain's base name.
	Path   string
	Tables *archive.Tables
	// Links are the archive alone, or a chain's links in order.
	Links []*archive.Archive
	// Chain is the opened chain, nil for a complete archive.
	Chain *Chain
}

// OpenTables resolves path (see Resolve), opens and verifies the archive
// or the chain it names, and loads its tables. The tables named in skip
// are not loaded from a complete archive (the caller streams them with
// archive.ScanTable); a chain's links are merged whole, skip or not. The
// error names path. The caller must Close the result.
func OpenTables(ctx context.Context, path string, skip ...string) (*Opened, error) {
	target, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	if target.Chain {
		c, err := Open(ctx, target.Path)
		if err != nil {
			return nil, err
		}
		t, err := c.Merged(ctx, 0)
		if err != nil {
			c.Close()
			return nil, err
		}
		return &Opened{Path: c.Base, Tables: t, Links: c.Links, Chain: c}, nil
	}
	a, err := archive.Open(ctx, path)
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	t, err := archive.LoadTables(ctx, a, slices.DeleteFunc(slices.Clone(schemas.Tables), func(n string) bool { return slices.Contains(skip, n) })...)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Opened{Path: path, Tables: t, Links: []*archive.Archive{a}}, nil
}

// Close releases the archive, or every link of the chain.
func (o *Opened) Close() error {
	if o.Chain != nil {
		return o.Chain.Close()
	}
	return o.Links[0].Close()
}
