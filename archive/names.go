package archive

import (
	"path"
	"regexp"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// Entry kinds, in the order they appear in an archive.
const (
	KindHeader EntryKind = iota
	KindTable
	KindBlob
	KindManifest
)

// EntryKind classifies an archive entry.
type EntryKind int

// String returns the kind's name.
func (k EntryKind) String() string {
	switch k {
	case KindHeader:
		return "header"
	case KindTable:
		return "table"
	case KindBlob:
		return "blob"
	case KindManifest:
		return "manifest"
	}
	return "unknown"
}

// BlobPath returns the archive entry name of the blob with the given
// sha256 (lower-case hex).
func BlobPath(digest string) string { return "blobs/" + digest }

var (
	tableRe = regexp.MustCompile(`^tables/([a-z][a-z0-9_]*)\.parquet$`)
	blobRe  = regexp.MustCompile(`^blobs/([0-9a-f]{64})$`)
	hexRe   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// IsDigest reports whether s is a lower-case hex sha256.
func IsDigest(s string) bool { return hexRe.MatchString(s) }

// securePath reports whether name is a clean, relative, forward-slash path
// without ".." elements: the only names a reader accepts.
func securePath(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) ||
		strings.ContainsRune(name, 0) || path.Clean(name) != name {
		return false
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." || el == "." || el == "" {
			return false
		}
	}
	return len(name) < 2 || name[1] != ':' // no Windows drive letters
}

// classify returns the kind of a (secure) entry name and, for tables and
// blobs, the table name or digest. ok is false for names the format does
// not define.
func classify(name string) (kind EntryKind, key string, ok bool) {
	switch name {
	case schemas.HeaderPath:
		return KindHeader, "", true
	case schemas.ManifestPath:
		return KindManifest, "", true
	}
	if m := tableRe.FindStringSubmatch(name); m != nil {
		return KindTable, m[1], true
	}
	if m := blobRe.FindStringSubmatch(name); m != nil {
		return KindBlob, m[1], true
	}
	return 0, "", false
}
