package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// Archive is an archive that has been read and verified once by [Open]. It
// keeps the tables (in memory, or in temporary files when large) and
// forgets the blobs, which [Archive.Blobs] streams again.
type Archive struct {
	// Path is the archive's file name.
	Path string
	// Header and Manifest are the archive's header and verified manifest.
	Header   schemas.Header
	Manifest schemas.Manifest
	// Digest is the archive digest: the sha256 of the manifest entry.
	Digest string
	// Size is the archive file's size in bytes.
	Size int64

	tables map[string]*spool
	rows   map[string]int64
	// files are the tables as checkTable opened them (without their page
	// index and bloom filters).
	files map[string]*parquet.File
}

// Open reads the archive at path from start to end, verifying every entry,
// and returns it with its tables loaded. The caller must Close it.
func Open(ctx context.Context, path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: %w: a folder: give the archives in it (%s)", path, ErrNotArchive, filepath.Join(path, "*.tar.zst"))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrNotArchive)
	}
	a := &Archive{Path: path, Size: st.Size(), tables: map[string]*spool{}, rows: map[string]int64{}, files: map[string]*parquet.File{}}
	budget := BudgetFrom(ctx)
	r, err := openReader(ctx, f, st.Size(), budget)
	if err != nil {
		return nil, ctxOr(ctx, err)
	}
	defer r.Close()
	a.Header = r.Header()
	var copyBuf []byte // one for all tables: io.Copy takes 32 KiB for each
	for {
		if err := ctx.Err(); err != nil {
			a.Close()
			return nil, err
		}
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			a.Close()
			return nil, overErr(path, ctxOr(ctx, err))
		}
		if e.Kind != KindTable {
			continue
		}
		sp := newSpool(os.TempDir())
		sp.grow(e.Size)
		a.tables[e.Key] = sp
		if copyBuf == nil {
			copyBuf = make([]byte, 32<<10)
		}
		if _, err := io.CopyBuffer(sp, e, copyBuf); err != nil {
			a.Close()
			return nil, ctxOr(ctx, err)
		}
	}
	a.Manifest = *r.Manifest()
	a.Digest = r.Digest()
	for _, e := range a.Manifest.Entries {
		if kind, key, _ := classify(e.Path); kind == KindTable && e.Rows != nil {
			a.rows[key] = *e.Rows
		}
	}
	// Every reader of the tables relies on the row counts: check them, and
	// the budget of rows and decoded bytes, before anything is decoded.
	for _, name := range a.Header.Tables {
		f, err := checkTable(name, a.tables[name], a.rows[name], budget)
		if err != nil {
			a.Close()
			return nil, overErr(path, err)
		}
		a.files[name] = f
	}
	return a, nil
}

// Close removes the temporary files holding large tables.
func (a *Archive) Close() error {
	var errs []error
	for _, sp := range a.tables {
		errs = append(errs, sp.Close())
	}
	a.tables, a.files = nil, nil
	return errors.Join(errs...)
}

// Rows returns the number of rows of a table, as the manifest records it;
// 0 for a table the archive does not have.
func (a *Archive) Rows(table string) int64 { return a.rows[table] }

// HasTable reports whether the archive holds the table.
func (a *Archive) HasTable(table string) bool { _, ok := a.tables[table]; return ok }

// Blobs streams the archive again and calls fn for every blob whose digest
// want accepts (every blob when want is nil). fn must read the entry to the
// end for its checksum to be verified; a mismatch is returned by the entry's
// final Read. The stream is verified against the manifest as a whole.
func (a *Archive) Blobs(ctx context.Context, want func(digest string) bool, fn func(e *Entry) error) error {
	f, err := os.Open(a.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	r, err := openReader(ctx, f, st.Size(), BudgetFrom(ctx))
	if err != nil {
		return ctxOr(ctx, err)
	}
	defer r.Close()
	if r.Header().RunID != a.Header.RunID {
		return fmt.Errorf("%s: %w: the file changed since it was opened", filepath.Base(a.Path), ErrChecksum)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := r.Next()
		if err == io.EOF {
			if r.Digest() != a.Digest {
				return fmt.Errorf("%s: %w: the file changed since it was opened", filepath.Base(a.Path), ErrChecksum)
			}
			return nil
		}
		if err != nil {
			return ctxOr(ctx, err)
		}
		if e.Kind == KindBlob && (want == nil || want(e.Key)) {
			if err := fn(e); err != nil {
				return ctxOr(ctx, err)
			}
		}
	}
}

// ReadHeader reads only the header of the archive at path (its first
// entry), without verifying the rest.
func ReadHeader(path string) (schemas.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return schemas.Header{}, err
	}
	defer f.Close()
	if r, ok := readHeaderSmall(f, Limits{}); ok {
		defer r.Close()
		return r.Header(), nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return schemas.Header{}, err
	}
	r, err := NewReader(f, Limits{})
	if err != nil {
		return schemas.Header{}, fmt.Errorf("%s: %w", path, err)
	}
	defer r.Close()
	return r.Header(), nil
}

// overErr names the archive in a budget error, so that the one line says
// which file, which entry, which limit and how to raise it.
func overErr(path string, err error) error {
	if errors.Is(err, ErrOverBudget) {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return err
}
