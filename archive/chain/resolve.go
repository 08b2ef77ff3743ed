package chain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/yoloarchive/yoloarchive/archive"
)

// Target is what a path given to a command names: a complete archive, or
// a chain (capture --follow).
type Target struct {
	// Path is the complete archive's file, or the chain's base name
	// ("out/run.tar.zst") when the path named one of its links.
	Path string
	// Chain is set when the target is a chain, to be opened with [Open]:
	// reading it means reading every link.
	Chain bool
	// Links are a chain's link files on disk in order; Orphans the link
	// files after a missing number. Both are nil for a complete archive.
	Links, Orphans []string
}

// Resolve answers, for every command that takes archives (sync, verify,
// restore, export), whether path names a chain and which links: a chain's
// base name with links beside it and no file of its own, or a file whose
// header says it is a link. Anything else (a complete archive, a file
// that is not an archive, a missing file) resolves to itself, for
// archive.Open to report on. It reads at most one header. The error names
// path when it cannot be told what the chain is: two files for one link,
// or a link whose file name does not say its number.
func Resolve(path string) (Target, error) {
	base, link := path, false
	if _, err := os.Stat(path); err == nil {
		h, err := archive.ReadHeader(path)
		if err != nil || h.Chain == nil {
			return Target{Path: path}, nil
		}
		b, _, ok := SplitLink(path)
		if !ok {
			return Target{}, fmt.Errorf("%s: %w: a chain link (link %d) whose file name does not say its number: rename it %s",
				path, ErrBroken, h.Chain.Seq, filepath.Base(LinkPath(path, h.Chain.Seq)))
		}
		base, link = b, true
	} else if !errors.Is(err, os.ErrNotExist) {
		return Target{Path: path}, nil
	}
	links, orphans, err := Files(base)
	if err != nil {
		if errors.Is(err, ErrBroken) {
			return Target{}, err
		}
		return Target{Path: path}, nil // no folder to list: a missing file
	}
	if len(links) == 0 && !link {
		return Target{Path: path}, nil // orphans alone are no chain
	}
	return Target{Path: base, Chain: true, Links: links, Orphans: orphans}, nil
}
