package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// errEmpty is returned by nextHeader for a stream without any entry.
var errEmpty = errors.New("archive: empty stream")

// Limits are the resource budget of one archive read: they bound what a
// [Reader] and [Open] accept, so that a hostile or damaged archive cannot
// exhaust memory or disk. Going over one is an error wrapping
// [ErrOverBudget]. The zero value gives the defaults; [ParseBudget] reads
// the --budget flag.
type Limits struct {
	// MaxHeader and MaxManifest cap the JSON entries (defaults 1 MiB and
	// 256 MiB).
	MaxHeader, MaxManifest int64
	// MaxEntries caps the number of entries (default 4 million).
	MaxEntries int
	// MaxWindow caps the zstd window (default 128 MiB).
	MaxWindow uint64
	// MaxEntryBytes caps one entry's size, and MaxTotalBytes all entries'
	// (uncompressed, as the tar headers declare them, checked before an
	// entry is read).
	MaxEntryBytes, MaxTotalBytes int64
	// MaxTableBytes caps the bytes of all tables together: [Open] keeps
	// them in memory and temporary files.
	MaxTableBytes int64
	// MaxRows caps the rows of one table, as its manifest entry records
	// them (checked before the table is read).
	MaxRows int64
	// MaxValueBytes caps a Parquet page's decoded size, and so the size of
	// any one value (checked from the page headers before decoding).
	MaxValueBytes int64
	// MaxPixels caps the pixels of an image decoded from the archive
	// (checked from the image header before decoding).
	MaxPixels int64
	// MaxZipEntries, MaxZipBytes, MaxZipRatio and MaxZipTotalRatio bound
	// the extraction of a session zip (checked from its directory before
	// anything is written): its entries, the bytes they declare in all,
	// the compression ratio of an entry over 1 MiB, and the ratio of all
	// entries together once they declare more than 64 MiB.
	MaxZipEntries, MaxZipBytes, MaxZipRatio, MaxZipTotalRatio int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxHeader <= 0 {
		l.MaxHeader = 1 << 20
	}
	if l.MaxManifest <= 0 {
		l.MaxManifest = 256 << 20
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 4 << 20
	}
	if l.MaxWindow == 0 {
		l.MaxWindow = defaultMaxWindow
	}
	for _, d := range []struct {
		p   *int64
		def int64
	}{{&l.MaxEntryBytes, DefaultMaxEntryBytes}, {&l.MaxTotalBytes, DefaultMaxTotalBytes},
		{&l.MaxTableBytes, DefaultMaxTableBytes}, {&l.MaxRows, DefaultMaxRows},
		{&l.MaxValueBytes, DefaultMaxValueBytes}, {&l.MaxPixels, DefaultMaxPixels},
		{&l.MaxZipEntries, DefaultMaxZipEntries}, {&l.MaxZipBytes, DefaultMaxZipBytes},
		{&l.MaxZipRatio, DefaultMaxZipRatio}, {&l.MaxZipTotalRatio, DefaultMaxZipTotalRatio}} {
		if *d.p <= 0 {
			*d.p = d.def
		}
	}
	return l
}

// Entry is a table or blob entry returned by [Reader.Next]. Read returns
// the entry's bytes; for a blob, the final Read returns [ErrChecksum]
// instead of io.EOF when the bytes do not match the blob's name.
type Entry struct {
	// Path is the entry's name in the archive.
	Path string
	// Kind is KindTable or KindBlob.
	Kind EntryKind
	// Key is the table name or the blob digest.
	Key string
	// Size is the entry's size in bytes.
	Size int64

	r    io.Reader
	h    hash.Hash
	n    int64
	done bool
	err  error
}

// Read implements io.Reader.
func (e *Entry) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.r.Read(p)
	e.h.Write(p[:n])
	e.n += int64(n)
	if err == io.EOF {
		e.done = true
		if e.n != e.Size {
			err = fmt.Errorf("entry %q: %w: read %d of %d bytes", e.Path, ErrTruncated, e.n, e.Size)
		} else if e.Kind == KindBlob && e.sum() != e.Key {
			err = fmt.Errorf("entry %q: %w: content sha256 is %s", e.Path, ErrChecksum, e.sum())
		}
	} else if err != nil {
		err = wrapStreamErr(e.Path, err)
	}
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

func (e *Entry) sum() string { return hex.EncodeToString(e.h.Sum(nil)) }

// drain reads the rest of the entry so that its sha256 is complete.
func (e *Entry) drain() error {
	if e.err != nil {
		return e.err
	}
	if e.done {
		return nil
	}
	_, err := io.Copy(io.Discard, e)
	return err
}

// Reader reads an archive as a stream, verifying as it goes. Next returns
// the table and blob entries in order; when it returns io.EOF the manifest
// has been read and every entry checked against it.
type Reader struct {
	frame    *frameReader
	dec      source
	tr       *tar.Reader
	limits   Limits
	header   schemas.Header
	manifest *schemas.Manifest
	digest   string
	seen     []schemas.ManifestEntry
	names    map[string]bool
	cur      *Entry
	last     EntryKind
	tables   int   // tables read so far
	total    int64 // bytes of the entries so far
	tableSum int64 // bytes of the tables so far
	err      error
}

// NewReader starts reading an archive from r and reads its header. It
// returns an error wrapping [ErrNotArchive] or [ErrUnsupportedVersion] if r
// is not an archive this package can read.
func NewReader(r io.Reader, limits Limits) (*Reader, error) {
	limits = limits.withDefaults()
	fr := newFrameReader(r)
	dec, err := getDecoder(fr, limits.MaxWindow)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
	}
	return newReader(fr, dec, limits)
}

// newReader reads an archive's header from src, the tar stream that fr's
// frames decode to, and returns its Reader, or closes src.
func newReader(fr *frameReader, src source, limits Limits) (*Reader, error) {
	ar := &Reader{frame: fr, dec: src, tr: tar.NewReader(src), limits: limits, names: map[string]bool{}}
	hdr, err := ar.nextHeader()
	if err != nil {
		src.Close()
		if errors.Is(err, errEmpty) {
			return nil, fmt.Errorf("%w: empty stream", ErrNotArchive)
		}
		if errors.Is(err, zstd.ErrMagicMismatch) {
			return nil, fmt.Errorf("%w: not zstd-compressed", ErrNotArchive)
		}
		return nil, err
	}
	if hdr.Name != schemas.HeaderPath {
		src.Close()
		return nil, fmt.Errorf("%w: first entry is %q, want %q", ErrNotArchive, hdr.Name, schemas.HeaderPath)
	}
	data, err := ar.readSmall(hdr, limits.MaxHeader)
	if err == nil {
		err = decodeStrict(data, &ar.header)
		if err == nil {
			err = checkHeader(ar.header)
		} else {
			err = fmt.Errorf("%s: %w: %v", schemas.HeaderPath, ErrNotArchive, err)
		}
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	ar.last = KindHeader
	return ar, nil
}

// Header returns the archive's header.
func (r *Reader) Header() schemas.Header { return r.header }

// Manifest returns the verified manifest once Next has returned io.EOF.
func (r *Reader) Manifest() *schemas.Manifest { return r.manifest }

// Digest returns the archive digest (sha256 of the manifest entry) once
// Next has returned io.EOF.
func (r *Reader) Digest() string { return r.digest }

// Close releases the decompressor. It does not close the underlying reader.
func (r *Reader) Close() { r.dec.Close() }

// defaultMaxWindow is Limits' default zstd window cap.
const defaultMaxWindow = 128 << 20

// decoders keeps zstd decoders between archive reads. A decoder allocates
// its history at its first block, the frame's window (8 MiB for the
// archives capture writes) and zeroes it; every command reads each
// archive's header (chain.Resolve) before reading the archive through
// (Open), and a batch reads archive after archive. Reset for the next
// stream, a decoder keeps its history and block buffers; reset to nil, it
// runs no goroutine, so the pool may drop it.
var decoders sync.Pool

// getDecoder returns a decoder reading r, from the pool when the window
// cap is the default one (the decoders in the pool have it).
func getDecoder(r io.Reader, maxWindow uint64) (*pooledDecoder, error) {
	if maxWindow == defaultMaxWindow {
		if d, ok := decoders.Get().(*zstd.Decoder); ok {
			if err := d.Reset(r); err == nil {
				return &pooledDecoder{d: d, pool: true}, nil
			}
			d.Close()
		}
	}
	// One goroutine, the caller's: the concurrent stream decoder
	// (klauspost/compress v1.20.3) hands out bytes decoded ahead of a
	// corrupt block that differ from read to read
	// (TestOpen_DamagedSameErrorTwice), and its goroutine hand-off costs
	// more than it overlaps for the small archives most reads are.
	d, err := zstd.NewReader(r, zstd.WithDecoderMaxWindow(maxWindow),
		zstd.WithDecoderMaxMemory(1<<40), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	return &pooledDecoder{d: d, pool: maxWindow == defaultMaxWindow}, nil
}

// source is what a Reader reads the tar stream from: a zstd decoder
// (pooledDecoder), or the archive decoded in memory (memSource). Once
// closed, it reads nothing.
type source interface {
	io.Reader
	Close()
}

// pooledDecoder is a Reader's hold on a decoder: once closed, it reads
// nothing, whatever reads the decoder's next stream.
type pooledDecoder struct {
	d    *zstd.Decoder
	pool bool
}

// errReaderClosed is returned by reads after Reader.Close.
var errReaderClosed = errors.New("archive: read after the reader was closed")

func (p *pooledDecoder) Read(b []byte) (int, error) {
	if p.d == nil {
		return 0, errReaderClosed
	}
	return p.d.Read(b)
}

// Close gives the decoder back to the pool (or closes it); it may be
// called more than once.
func (p *pooledDecoder) Close() {
	d := p.d
	if d == nil {
		return
	}
	p.d = nil
	if p.pool && d.Reset(nil) == nil {
		decoders.Put(d)
		return
	}
	d.Close()
}

// Next finishes the current entry and returns the next table or blob. At
// the manifest it verifies the whole archive and returns io.EOF, or the
// first problem found.
func (r *Reader) Next() (*Entry, error) {
	if r.err != nil {
		return nil, r.err
	}
	e, err := r.next()
	if err != nil && err != io.EOF {
		r.err = err
	}
	return e, err
}

func (r *Reader) next() (*Entry, error) {
	if r.cur != nil {
		if err := r.cur.drain(); err != nil {
			return nil, err
		}
		r.seen = append(r.seen, schemas.ManifestEntry{Path: r.cur.Path, Size: r.cur.Size, SHA256: r.cur.sum()})
		r.cur = nil
	}
	if r.manifest != nil {
		return nil, io.EOF
	}
	hdr, err := r.nextHeader()
	if err != nil {
		return nil, err
	}
	kind, key, _ := classify(hdr.Name)
	if kind < r.last || (kind == r.last && kind == KindHeader) {
		return nil, fmt.Errorf("entry %q: %w: a %s after a %s", hdr.Name, ErrBadEntry, kind, r.last)
	}
	r.last = kind
	if kind == KindManifest {
		return nil, r.readManifest(hdr)
	}
	if err := r.checkTableOrder(hdr.Name, kind, key); err != nil {
		return nil, err
	}
	if kind == KindTable {
		r.tableSum += hdr.Size
		if r.tableSum > r.limits.MaxTableBytes {
			return nil, fmt.Errorf("entry %q: %w", hdr.Name, overBudget("size of the tables", r.tableSum, "tables", r.limits.MaxTableBytes))
		}
	}
	r.cur = &Entry{Path: hdr.Name, Kind: kind, Key: key, Size: hdr.Size, r: r.tr, h: sha256.New()}
	return r.cur, nil
}

// nextHeader reads the next tar header and checks its name and type.
func (r *Reader) nextHeader() (*tar.Header, error) {
	hdr, err := r.tr.Next()
	if err == io.EOF {
		if len(r.names) == 0 {
			return nil, errEmpty
		}
		return nil, fmt.Errorf("%w: the archive ends before its manifest", ErrTruncated)
	}
	if err != nil {
		return nil, wrapStreamErr("", err)
	}
	if !securePath(hdr.Name) {
		return nil, fmt.Errorf("entry %q: %w", hdr.Name, ErrInsecurePath)
	}
	switch hdr.Typeflag {
	case tar.TypeReg: // the tar reader reports old-style regular files (TypeRegA) as TypeReg
	case tar.TypeSymlink, tar.TypeLink:
		return nil, fmt.Errorf("entry %q: %w: links are not allowed", hdr.Name, ErrBadEntry)
	default:
		return nil, fmt.Errorf("entry %q: %w: type %q is not a regular file", hdr.Name, ErrBadEntry, hdr.Typeflag)
	}
	if _, _, ok := classify(hdr.Name); !ok {
		return nil, fmt.Errorf("entry %q: %w: not an entry this format defines", hdr.Name, ErrBadEntry)
	}
	if r.names[hdr.Name] {
		return nil, fmt.Errorf("entry %q: %w: duplicate entry", hdr.Name, ErrBadEntry)
	}
	r.names[hdr.Name] = true
	if len(r.names) > r.limits.MaxEntries {
		return nil, fmt.Errorf("entry %q: %w: more than %d entries", hdr.Name, ErrBadEntry, r.limits.MaxEntries)
	}
	if hdr.Size < 0 {
		return nil, fmt.Errorf("entry %q: %w: negative size", hdr.Name, ErrBadEntry)
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return nil, fmt.Errorf("entry %q: %w: sparse entries are not allowed", hdr.Name, ErrBadEntry)
		}
	}
	if hdr.Size > r.limits.MaxEntryBytes {
		return nil, fmt.Errorf("entry %q: %w", hdr.Name, overBudget("size", hdr.Size, "entry", r.limits.MaxEntryBytes))
	}
	r.total += hdr.Size
	if r.total > r.limits.MaxTotalBytes {
		return nil, fmt.Errorf("entry %q: %w", hdr.Name, overBudget("total size", r.total, "total", r.limits.MaxTotalBytes))
	}
	return hdr, nil
}

// readSmall reads a whole JSON entry, refusing entries over max bytes.
func (r *Reader) readSmall(hdr *tar.Header, max int64) ([]byte, error) {
	if hdr.Size > max {
		return nil, fmt.Errorf("entry %q: %w: %d bytes is over the %d byte limit", hdr.Name, ErrBadEntry, hdr.Size, max)
	}
	data := make([]byte, hdr.Size)
	if _, err := io.ReadFull(r.tr, data); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, fmt.Errorf("entry %q: %w", hdr.Name, ErrTruncated)
		}
		return nil, wrapStreamErr(hdr.Name, err)
	}
	sum := sha256.Sum256(data)
	r.seen = append(r.seen, schemas.ManifestEntry{Path: hdr.Name, Size: hdr.Size, SHA256: hex.EncodeToString(sum[:])})
	return data, nil
}

// readManifest reads the manifest, checks it against everything read, and
// checks that the stream ends right after it.
func (r *Reader) readManifest(hdr *tar.Header) error {
	data, err := r.readSmall(hdr, r.limits.MaxManifest)
	if err != nil {
		return err
	}
	seen := r.seen[:len(r.seen)-1] // the manifest does not list itself
	var m schemas.Manifest
	if err := decodeStrict(data, &m); err != nil {
		return fmt.Errorf("%s: %w: %v", schemas.ManifestPath, ErrBadManifest, err)
	}
	if err := checkManifest(m, r.header, seen); err != nil {
		return err
	}
	if _, err := r.tr.Next(); err != io.EOF {
		if err == nil {
			return fmt.Errorf("%w: entries after the manifest", ErrBadEntry)
		}
		return wrapStreamErr(schemas.ManifestPath, err)
	}
	// Read to the end of the zstd stream so that its checksum is verified;
	// nothing but the zero padding of the tar stream may follow its end
	// marker, and nothing may follow the zstd frame (a verified archive is
	// exactly what its manifest covers).
	if _, err := io.Copy(zeroWriter{}, r.dec); err != nil {
		if errors.Is(err, ErrBadEntry) {
			return err
		}
		return wrapStreamErr("", err)
	}
	if _, err := io.Copy(io.Discard, r.frame); err != nil || !r.frame.done() {
		if err == nil {
			err = errors.New("the zstd frame is incomplete")
		}
		return fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	sum := sha256.Sum256(data)
	r.manifest = &m
	r.digest = hex.EncodeToString(sum[:])
	return io.EOF
}

// wrapStreamErr turns decompression and tar errors into errors that say the
// archive is corrupt or truncated.
func wrapStreamErr(entry string, err error) error {
	where := ""
	if entry != "" {
		where = fmt.Sprintf("entry %q: ", entry)
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s%w: the compressed stream ends early", where, ErrTruncated)
	case errors.Is(err, ErrTruncated), errors.Is(err, ErrChecksum):
		return err
	case errors.Is(err, errAfterFrame):
		return fmt.Errorf("%w: %w", ErrBadEntry, err)
	}
	return fmt.Errorf("%s%w: corrupt stream: %w", where, ErrChecksum, err)
}

// decodeStrict decodes JSON, refusing trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// checkTableOrder checks that tables appear exactly as the header lists
// them, before any blob.
func (r *Reader) checkTableOrder(name string, kind EntryKind, key string) error {
	want := r.header.Tables
	switch {
	case kind == KindTable && (r.tables >= len(want) || want[r.tables] != key):
		return fmt.Errorf("entry %q: %w: the header lists tables %v in that order", name, ErrBadEntry, want)
	case kind == KindTable:
		r.tables++
	case r.tables != len(want):
		return fmt.Errorf("entry %q: %w: table %q listed in the header is missing", name, ErrBadEntry, want[r.tables])
	}
	return nil
}
