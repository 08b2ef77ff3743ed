package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// entryTime is the modification time of every entry: fixed, so that the
// same input gives the same bytes.
var entryTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Options tune a [Writer]. The zero value gives the defaults.
type Options struct {
	// Level is the zstd level of the tar stream (default SpeedDefault).
	Level zstd.EncoderLevel
	// Concurrency is the number of zstd encoder goroutines (default
	// GOMAXPROCS). The output does not depend on it.
	Concurrency int
}

// Writer writes one archive. It is not safe for concurrent use.
type Writer struct {
	dst     string
	tmp     *os.File
	enc     *zstd.Encoder
	tw      *tar.Writer
	header  schemas.Header
	tables  int // number of tables written so far
	entries []schemas.ManifestEntry
	blobs   map[string]blobSource
	err     error // first error; the writer refuses further work after it
	closed  bool
}

type blobSource struct {
	path string
	size int64
	xxh  uint64
	open func() (io.ReadCloser, error) // nil: os.Open(path)
}

// Create starts an archive that will appear at dst when [Writer.Close]
// succeeds. It validates h, fills in its format fields, and writes it as
// the first entry. The caller must call Close or [Writer.Abort].
func Create(dst string, h schemas.Header, opts Options) (*Writer, error) {
	h.Format = schemas.FormatName
	h.FormatVersion = schemas.FormatVersion
	if err := checkHeader(h); err != nil {
		return nil, err
	}
	if opts.Level == 0 {
		opts.Level = zstd.SpeedDefault
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	dir, base := filepath.Split(dst)
	if dir == "" {
		dir = "."
	}
	tmp, err := scratch.Create(dir, base)
	if err != nil {
		return nil, fmt.Errorf("create archive: %w", err)
	}
	enc, err := zstd.NewWriter(&writebackFile{File: tmp}, zstd.WithEncoderLevel(opts.Level),
		zstd.WithEncoderConcurrency(opts.Concurrency), zstd.WithEncoderCRC(true))
	if err != nil {
		tmp.Close()
		scratch.Remove(tmp.Name())
		return nil, fmt.Errorf("create archive: %w", err)
	}
	w := &Writer{
		dst:    dst,
		tmp:    tmp,
		enc:    enc,
		tw:     tar.NewWriter(enc),
		header: h,
		blobs:  map[string]blobSource{},
	}
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("create archive: %w", err)
	}
	if err := w.writeEntry(schemas.HeaderPath, int64(len(data)), bytes.NewReader(data), nil); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// Header returns the header the writer wrote.
func (w *Writer) Header() schemas.Header { return w.header }

// WriteTable writes the next table. name must be the next table listed in
// the header; write must write the complete Parquet file to its argument,
// and rows is the number of rows it holds.
func (w *Writer) WriteTable(name string, write func(io.Writer) (rows int64, err error)) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.tables >= len(w.header.Tables) || w.header.Tables[w.tables] != name {
		return w.fail(fmt.Errorf("write table %q: %w: the header lists tables %v in that order", name, ErrBadEntry, w.header.Tables))
	}
	sp := newSpool(filepath.Dir(w.tmp.Name()))
	defer sp.Close()
	rows, err := write(sp)
	if err != nil {
		return w.fail(fmt.Errorf("write table %q: %w", name, err))
	}
	if err := w.writeEntry(schemas.TablePath(name), sp.Size(), sp.Reader(), &rows); err != nil {
		return err
	}
	w.tables++
	return nil
}

// FileSum identifies a file's content: its sha256 (lower-case hex), size,
// and xxHash64. [HashFile] computes it.
type FileSum struct {
	SHA256 string
	Size   int64
	XXH64  uint64
}

// AddFile registers the file at path, whose content sum the caller already
// computed with [HashFile], as a blob. Blobs are written by Close, in
// digest order; a digest added twice is stored once. Close fails if the file
// no longer has that content.
func (w *Writer) AddFile(sum FileSum, path string) error {
	if err := w.usable(); err != nil {
		return err
	}
	if !IsDigest(sum.SHA256) {
		return w.fail(fmt.Errorf("add %s: %w: %q is not a sha256", path, ErrBadEntry, sum.SHA256))
	}
	if old, ok := w.blobs[sum.SHA256]; ok {
		if old.size != sum.Size {
			return w.fail(fmt.Errorf("add %s: %w: same digest as %s, different size", path, ErrChecksum, old.path))
		}
		return nil
	}
	w.blobs[sum.SHA256] = blobSource{path: path, size: sum.Size, xxh: sum.XXH64}
	return nil
}

// AddFileFrom is [Writer.AddFile] for a file that open opens (a file of a
// run directory, read only through the directory's [os.Root]); name
// names it in errors.
func (w *Writer) AddFileFrom(sum FileSum, name string, open func() (io.ReadCloser, error)) error {
	if err := w.AddFile(sum, name); err != nil {
		return err
	}
	if b := w.blobs[sum.SHA256]; b.path == name && b.open == nil {
		b.open = open
		w.blobs[sum.SHA256] = b
	}
	return nil
}

// Close writes the blobs and the manifest, flushes and fsyncs the archive,
// and renames it to its destination. It returns the manifest and the
// archive digest (the sha256 of the manifest entry). On error, and when
// ctx is done before the end, nothing is left at the destination or in the
// temporary file.
func (w *Writer) Close(ctx context.Context) (schemas.Manifest, string, error) {
	if err := w.usable(); err != nil {
		w.Abort()
		return schemas.Manifest{}, "", err
	}
	if w.tables != len(w.header.Tables) {
		err := w.fail(fmt.Errorf("close archive: %w: %d of %d tables written", ErrBadEntry, w.tables, len(w.header.Tables)))
		w.Abort()
		return schemas.Manifest{}, "", err
	}
	digests := make([]string, 0, len(w.blobs))
	for d := range w.blobs {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	for _, d := range digests {
		if err := w.writeBlob(ctx, d, w.blobs[d]); err != nil {
			w.Abort()
			return schemas.Manifest{}, "", err
		}
	}
	m := schemas.Manifest{
		Format:        schemas.FormatName,
		FormatVersion: schemas.FormatVersion,
		RunID:         w.header.RunID,
		Entries:       w.entries,
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		w.Abort()
		return schemas.Manifest{}, "", fmt.Errorf("close archive: %w", err)
	}
	sum := sha256.Sum256(data)
	if err := w.writeEntry(schemas.ManifestPath, int64(len(data)), bytes.NewReader(data), nil); err != nil {
		w.Abort()
		return schemas.Manifest{}, "", err
	}
	if err := w.finish(); err != nil {
		w.Abort()
		return schemas.Manifest{}, "", err
	}
	m.Entries = slices.Clone(m.Entries)
	return m, hex.EncodeToString(sum[:]), nil
}

// finish closes the tar and zstd streams, fsyncs, renames and fsyncs the
// directory.
func (w *Writer) finish() error {
	if err := w.tw.Close(); err != nil {
		return w.fail(fmt.Errorf("close archive: %w", err))
	}
	if err := w.enc.Close(); err != nil {
		return w.fail(fmt.Errorf("close archive: %w", err))
	}
	// scratch.Create made the file 0600; an archive is as readable as any
	// file its user creates (0666 less the umask).
	if err := w.tmp.Chmod(scratch.FileMode()); err != nil {
		return w.fail(fmt.Errorf("close archive: %w", err))
	}
	if err := w.tmp.Sync(); err != nil {
		return w.fail(fmt.Errorf("close archive: fsync: %w", err))
	}
	if err := w.tmp.Close(); err != nil {
		return w.fail(fmt.Errorf("close archive: %w", err))
	}
	if err := scratch.Rename(w.tmp.Name(), w.dst); err != nil {
		return w.fail(fmt.Errorf("close archive: %w", err))
	}
	w.closed = true
	if d, err := os.Open(filepath.Dir(w.dst)); err == nil {
		d.Sync() // best effort: make the rename durable
		d.Close()
	}
	return nil
}

// Abort discards the archive: it removes the temporary file. It is safe to
// call after Close, and more than once.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.err == nil {
		w.err = errors.New("archive: writer aborted")
	}
	w.enc.Close()
	w.tmp.Close()
	scratch.Remove(w.tmp.Name())
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("archive: writer is closed")
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

// writeBlob copies a registered file into the archive, checking that it
// still has the content it had when it was hashed (a run that is still
// training rewrites weights/last.pt every epoch). The check is the file's
// xxHash64, a twentieth of the cost of hashing it with sha256 again: the
// sha256 in the manifest was computed over the same bytes if the xxHash64
// matches, and readers verify it anyway.
func (w *Writer) writeBlob(ctx context.Context, digest string, src blobSource) error {
	open := src.open
	if open == nil {
		open = func() (io.ReadCloser, error) { return os.Open(src.path) }
	}
	f, err := open()
	if err != nil {
		return w.fail(fmt.Errorf("add %s: %w", src.path, err))
	}
	defer f.Close()
	h := xxhash.New()
	if err := w.writeEntryKnown(BlobPath(digest), src.size, io.TeeReader(ctxReader{ctx, f}, h), digest); err != nil {
		if ctx.Err() != nil {
			return w.fail(ctx.Err())
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return w.fail(fmt.Errorf("add %s: %w: the file shrank while it was being captured", src.path, ErrChecksum))
		}
		return err
	}
	if h.Sum64() != src.xxh {
		return w.fail(fmt.Errorf("add %s: %w: the file changed while it was being captured", src.path, ErrChecksum))
	}
	return nil
}

// writeEntry writes one tar entry of exactly size bytes from r, computing
// its sha256, and records it in the manifest.
func (w *Writer) writeEntry(name string, size int64, r io.Reader, rows *int64) error {
	h := sha256.New()
	if err := w.copyEntry(name, size, io.TeeReader(r, h)); err != nil {
		return err
	}
	w.entries = append(w.entries, schemas.ManifestEntry{
		Path: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), Rows: rows,
	})
	return nil
}

// writeEntryKnown is writeEntry for content whose sha256 is already known.
func (w *Writer) writeEntryKnown(name string, size int64, r io.Reader, digest string) error {
	if err := w.copyEntry(name, size, r); err != nil {
		return err
	}
	w.entries = append(w.entries, schemas.ManifestEntry{Path: name, Size: size, SHA256: digest})
	return nil
}

// copyEntry writes one tar entry of exactly size bytes from r.
func (w *Writer) copyEntry(name string, size int64, r io.Reader) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o644,
		Size:     size,
		ModTime:  entryTime,
		Format:   tar.FormatUSTAR,
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return w.fail(fmt.Errorf("write %s: %w", name, err))
	}
	n, err := io.CopyN(w.tw, r, size)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return w.fail(fmt.Errorf("write %s: %w (wrote %d of %d bytes)", name, err, n, size))
	}
	return nil
}

// HashFile returns the content sum of the file at path: its sha256, size
// and xxHash64, in one read.
func HashFile(path string) (FileSum, error) {
	return HashFileContext(context.Background(), path)
}

// HashFileContext is HashFile that stops when ctx is done (a checkpoint
// of gigabytes takes seconds to hash), returning ctx's error.
func HashFileContext(ctx context.Context, path string) (FileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	return HashReader(ctx, f, path)
}

// HashReader is [HashFileContext] for the content of r (a file opened
// by the caller); name names it in errors.
func HashReader(ctx context.Context, r io.Reader, name string) (FileSum, error) {
	sh, xh := sha256.New(), xxhash.New()
	size, err := io.Copy(io.MultiWriter(sh, xh), ctxReader{ctx, r})
	if err != nil {
		if ctx.Err() != nil {
			return FileSum{}, ctx.Err()
		}
		return FileSum{}, fmt.Errorf("read %s: %w", name, err)
	}
	return FileSum{SHA256: hex.EncodeToString(sh.Sum(nil)), Size: size, XXH64: xh.Sum64()}, nil
}
