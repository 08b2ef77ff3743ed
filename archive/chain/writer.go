package chain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gofrs/flock"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// ErrLocked is wrapped by [NewWriter]'s error when another writer holds
// the chain.
var ErrLocked = errors.New("another yoloarchive process is writing this chain")

// ErrEnded is wrapped by [Writer.Append]'s error once the final link is
// written.
var ErrEnded = errors.New("chain ended")

// Writer appends links to a chain: it holds the chain's lock (one writer at
// a time, across processes, on every platform: a lock file beside the
// links, locked with github.com/gofrs/flock), the next link's sequence
// number and the previous link's digest. A process killed while it
// writes leaves the lock free (the system releases it) and the link
// unwritten (links are written atomically), so a new Writer continues the
// chain.
type Writer struct {
	base  string
	lock  *flock.Flock
	seq   int    // the next link's number
	prev  string // digest of the last link
	final bool
}

// LockPath returns the lock file of the chain base ("out/run.tar.zst"
// gives "out/run.lock").
func LockPath(base string) string { return strings.TrimSuffix(base, ext) + ".lock" }

// NewWriter takes the lock of the chain base (creating base's folder when
// needed), removes the temporary files a killed writer left, and opens the
// links already written (verified, as [Open] does). It returns the opened
// chain, nil when it has no links yet, for the caller to read and Close;
// the Writer continues after its last link. It fails at once, wrapping
// ErrLocked, while another Writer holds the chain, and wrapping ErrBroken
// when a link is missing before others. Close releases the lock.
func NewWriter(ctx context.Context, base string) (*Writer, *Chain, error) {
	if b, _, ok := SplitLink(base); ok {
		base = b
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, nil, err
	}
	lock := flock.New(LockPath(base), flock.SetPermissions(0o644))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: lock %s: %w", base, lock.Path(), err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w (lock %s): stop it first", base, ErrLocked, lock.Path())
	}
	w := &Writer{base: base, lock: lock}
	w.removeStale()
	links, orphans, err := Files(base)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	if len(orphans) > 0 {
		w.Close()
		return nil, nil, fmt.Errorf("%s: %w: %s follows a missing link: move it away, or capture into a new chain", base, ErrBroken, orphans[0])
	}
	if len(links) == 0 {
		return w, nil, nil
	}
	c, err := Open(ctx, base)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	w.seq, w.prev, w.final = len(c.Links), c.Head(), c.Final()
	return w, c, nil
}

// removeStale removes the temporary files of a link whose writer was
// killed (the lock proves no writer is running).
func (w *Writer) removeStale() {
	dir, name := filepath.Split(w.base)
	// Only this chain's links (.NAME.NNN.tar.zst.*.tmp): not another
	// chain's, nor a capture or compaction of NAME.tar.zst.
	re := regexp.MustCompile(`^\.` + regexp.QuoteMeta(strings.TrimSuffix(name, ext)) + `\.[0-9]{3,}\.tar\.zst\..+\.tmp$`)
	entries, _ := os.ReadDir(filepath.Clean(dir + "."))
	for _, e := range entries {
		if re.MatchString(e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Base returns the chain's base name.
func (w *Writer) Base() string { return w.base }

// Next returns the file of the next link and its number.
func (w *Writer) Next() (path string, seq int) { return LinkPath(w.base, w.seq), w.seq }

// Links returns the number of links written so far.
func (w *Writer) Links() int { return w.seq }

// Final reports whether the chain's final link is written.
func (w *Writer) Final() bool { return w.final }

// Append writes the next link with write, which must write the archive at
// path atomically, with link as its header's Chain, and return its digest.
// options name the capture options of the chain (the same for every link).
// When write succeeds the link is the chain's head: the next Append
// follows it. After the final link, Append fails wrapping ErrEnded.
func (w *Writer) Append(final bool, options string, write func(path string, link *schemas.ChainLink) (digest string, err error)) (path, digest string, err error) {
	if w.lock == nil {
		return "", "", fmt.Errorf("%s: the chain writer is closed", w.base)
	}
	if w.final {
		return "", "", fmt.Errorf("%s: %w: link %d is final", w.base, ErrEnded, w.seq-1)
	}
	path = LinkPath(w.base, w.seq)
	digest, err = write(path, &schemas.ChainLink{Seq: w.seq, Prev: w.prev, Final: final, Options: options})
	if err != nil {
		return "", "", err
	}
	w.seq, w.prev, w.final = w.seq+1, digest, final
	return path, digest, nil
}

// Close releases the chain's lock. The lock file stays: removing it could
// let two writers lock two different files.
func (w *Writer) Close() error {
	if w.lock == nil {
		return nil
	}
	err := w.lock.Close()
	w.lock = nil
	return err
}
