package schemas

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatName is the value of the "format" field of every archive header and
// manifest.
const FormatName = "yoloarchive"

// Format version of the archives this code writes. A reader accepts any
// archive with the same major version; minor versions only add optional
// tables, columns, roles or header fields, which older readers ignore.
const (
	FormatMajor = 1
	FormatMinor = 5
)

// FormatVersion is the "major.minor" string written into headers and
// manifests.
var FormatVersion = fmt.Sprintf("%d.%d", FormatMajor, FormatMinor)

// ParseFormatVersion splits a "major.minor" version string.
func ParseFormatVersion(s string) (major, minor int, err error) {
	a, b, ok := strings.Cut(s, ".")
	if !ok {
		return 0, 0, fmt.Errorf("format version %q: want major.minor", s)
	}
	major, err = strconv.Atoi(a)
	if err != nil || major < 0 {
		return 0, 0, fmt.Errorf("format version %q: bad major version", s)
	}
	minor, err = strconv.Atoi(b)
	if err != nil || minor < 0 {
		return 0, 0, fmt.Errorf("format version %q: bad minor version", s)
	}
	return major, minor, nil
}
