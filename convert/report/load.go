package report

import (
	"context"
	"io"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
)

// run is one input opened: an archive, or a chain's links merged.
type run struct {
	*chain.Opened
}

// open opens and verifies an archive, or every link of a chain when path
// names one, and loads its tables (a chain's merged).
func open(ctx context.Context, path string) (*run, error) {
	o, err := chain.OpenTables(ctx, path)
	if err != nil {
		return nil, err
	}
	return &run{o}, nil
}

func (r *run) close() error { return r.Close() }

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
	if r.Chain == nil {
		return read(r.Links[0])
	}
	byLink := map[*archive.Archive]bool{}
	for d := range want {
		if a := r.Chain.Archive(d); a != nil {
			byLink[a] = true
		}
	}
	for _, a := range r.Links {
		if byLink[a] {
			if err := read(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// linkCount is the number of a chain's links, 0 for a complete archive.
func (r *run) linkCount() int {
	if r.Chain == nil {
		return 0
	}
	return len(r.Links)
}
