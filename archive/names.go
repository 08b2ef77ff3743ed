package archive

import (
	"path"
	"regexp"
	"strings"
	"sync"

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

// The names the format defines are checked byte by byte, not by regexp:
// verify checks every entry's name, and compiling the regexps was 1% of
// its time (TestNames_AsRegexps holds them to the regexps they replace).

// IsDigest reports whether s is a lower-case hex sha256.
func IsDigest(s string) bool { return isLowerHex(s, 64) }

// isLowerHex reports whether s is n lower-case hex digits
// (^[0-9a-f]{n}$).
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isTableName reports whether s is a table name: ^[a-z][a-z0-9_]*$.
func isTableName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

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
	if t, ok := strings.CutPrefix(name, "tables/"); ok {
		if t, ok := strings.CutSuffix(t, ".parquet"); ok && isTableName(t) {
			return KindTable, t, true
		}
	}
	if d, ok := strings.CutPrefix(name, "blobs/"); ok && IsDigest(d) {
		return KindBlob, d, true
	}
	return 0, "", false
}

// safeNameMax is the longest name SafeName returns, in bytes: room for
// a run id and an extension within the 255 bytes of a file name.
const safeNameMax = 100

var unsafeNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// SafeName turns a name that comes from a run (its name, project, or a
// file name it recorded) into one file name component: every run of
// characters other than ASCII letters, digits, '.', '_' and '-' becomes
// '_', leading and trailing '.' and '_' are removed (so "../x" is "x",
// never ".." or a hidden ".._x"), and the result is cut to 100 bytes. A
// name with nothing left is "run". Every output path and file-server key
// component made from a run's names goes through it.
func SafeName(name string) string {
	s := strings.Trim(unsafeNameRe().ReplaceAllString(name, "_"), "._")
	if len(s) > safeNameMax {
		s = strings.TrimRight(s[:safeNameMax], "._")
	}
	if s == "" {
		return "run"
	}
	return s
}

// SafeKey returns a "/"-separated key (a file-server key built from a
// run's project and name) whose components cannot leave the key's
// prefix or be hidden: a component that is empty, "." or "..", or starts
// with '.', becomes SafeName of itself; others are kept as they are.
func SafeKey(key string) string {
	parts := strings.Split(key, "/")
	out := parts[:0]
	for _, p := range parts {
		switch {
		case p == "":
			continue
		case strings.HasPrefix(p, "."):
			p = SafeName(p)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return "run"
	}
	return strings.Join(out, "/")
}
