package archive

import "errors"

// Errors returned (wrapped, with the file or entry they concern) by the
// reader and writer.
var (
	// ErrNotArchive means the stream is not a yoloarchive archive.
	ErrNotArchive = errors.New("archive: not a yoloarchive archive")
	// ErrUnsupportedVersion means the archive's major format version is
	// not one this reader knows.
	ErrUnsupportedVersion = errors.New("archive: unsupported format version")
	// ErrTruncated means the stream ended before the manifest trailer.
	ErrTruncated = errors.New("archive: truncated")
	// ErrChecksum means an entry's content does not match its recorded
	// sha256 or size.
	ErrChecksum = errors.New("archive: checksum mismatch")
	// ErrInsecurePath means an entry name is absolute, contains "..", or is
	// otherwise not a clean relative path.
	ErrInsecurePath = errors.New("archive: insecure entry path")
	// ErrBadEntry means an entry is of a forbidden type (link, directory,
	// device), duplicated, out of order, unexpected or too large.
	ErrBadEntry = errors.New("archive: bad entry")
	// ErrBadManifest means the header or manifest is malformed or
	// inconsistent with the entries.
	ErrBadManifest = errors.New("archive: bad header or manifest")
)
