package sync

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
)

// Blobs holds blobs extracted from an archive into a private temporary
// directory, so uploads can be retried and resumed without holding files in
// memory. Close removes the directory.
type Blobs struct {
	dir   string
	sizes map[string]int64
}

// Extract copies the blobs whose digests are listed from the archive to a
// new temporary directory, verifying each against its digest on the way.
// Digests the archive does not hold are an error naming the first one.
func (r *Run) Extract(ctx context.Context, digests []string) (*Blobs, error) {
	want := map[string]bool{}
	for _, d := range digests {
		if d != "" {
			want[d] = true
		}
	}
	dir, err := scratch.Mkdir("", "yoloarchive-sync")
	if err != nil {
		return nil, err
	}
	b := &Blobs{dir: dir, sizes: map[string]int64{}}
	if len(want) == 0 {
		return b, nil
	}
	archives := []*archive.Archive{r.Archive}
	if r.chain != nil {
		archives = r.chain.Links
	}
	for _, a := range archives {
		if !holdsAny(a, want, b) {
			continue
		}
		err = a.Blobs(ctx, func(d string) bool { return want[d] && !b.has(d) }, func(e *archive.Entry) error {
			f, err := os.OpenFile(filepath.Join(dir, e.Key), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			n, err := io.Copy(f, e)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			b.sizes[e.Key] = n
			return nil
		})
		if err != nil || len(b.sizes) == len(want) {
			break
		}
	}
	if err == nil {
		for d := range want {
			if _, ok := b.sizes[d]; !ok {
				err = fmt.Errorf("%s: blob %s is referenced by a table but not stored: %w", r.Path, d, archive.ErrBadManifest)
				break
			}
		}
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// holdsAny reports whether a stores a wanted blob not extracted yet.
func holdsAny(a *archive.Archive, want map[string]bool, b *Blobs) bool {
	for _, e := range a.Manifest.Entries {
		if d, ok := strings.CutPrefix(e.Path, "blobs/"); ok && want[d] && !b.has(d) {
			return true
		}
	}
	return false
}

func (b *Blobs) has(d string) bool { _, ok := b.sizes[d]; return ok }

// Path returns the extracted file of a blob.
func (b *Blobs) Path(digest string) string { return filepath.Join(b.dir, digest) }

// Size returns the size of an extracted blob.
func (b *Blobs) Size(digest string) int64 { return b.sizes[digest] }

// Open opens an extracted blob for reading.
func (b *Blobs) Open(digest string) (*os.File, error) {
	if _, ok := b.sizes[digest]; !ok {
		return nil, fmt.Errorf("blob %s was not extracted", digest)
	}
	return os.Open(b.Path(digest))
}

// Close removes the extracted blobs.
func (b *Blobs) Close() error { return scratch.Remove(b.dir) }
