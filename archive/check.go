package archive

import (
	"fmt"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// checkHeader validates a header as header.schema.json does, and checks
// that this reader understands its major version.
func checkHeader(h schemas.Header) error {
	if h.Format != schemas.FormatName {
		return fmt.Errorf("%s: %w: format is %q", schemas.HeaderPath, ErrNotArchive, h.Format)
	}
	major, _, err := schemas.ParseFormatVersion(h.FormatVersion)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", schemas.HeaderPath, ErrBadManifest, err)
	}
	if major != schemas.FormatMajor {
		return fmt.Errorf("%s: %w: %s (this yoloarchive reads %d.x; upgrade yoloarchive)",
			schemas.HeaderPath, ErrUnsupportedVersion, h.FormatVersion, schemas.FormatMajor)
	}
	if !isLowerHex(h.RunID, 32) {
		return fmt.Errorf("%s: %w: run_id %q is not 32 hex digits", schemas.HeaderPath, ErrBadManifest, h.RunID)
	}
	if h.SourceKind == "" || h.Writer == "" {
		return fmt.Errorf("%s: %w: source_kind and writer are required", schemas.HeaderPath, ErrBadManifest)
	}
	seen := map[string]bool{}
	for _, t := range h.Tables {
		if !isTableName(t) || seen[t] {
			return fmt.Errorf("%s: %w: bad or duplicate table name %q", schemas.HeaderPath, ErrBadManifest, t)
		}
		seen[t] = true
	}
	if c := h.Chain; c != nil {
		switch {
		case c.Seq < 0:
			return fmt.Errorf("%s: %w: chain seq %d is negative", schemas.HeaderPath, ErrBadManifest, c.Seq)
		case c.Seq == 0 && c.Prev != "":
			return fmt.Errorf("%s: %w: chain link 0 names a predecessor", schemas.HeaderPath, ErrBadManifest)
		case c.Seq > 0 && !IsDigest(c.Prev):
			return fmt.Errorf("%s: %w: chain link %d lacks its predecessor's digest", schemas.HeaderPath, ErrBadManifest, c.Seq)
		}
	}
	return nil
}

// checkManifest validates a manifest against the header and the entries
// actually read.
func checkManifest(m schemas.Manifest, h schemas.Header, seen []schemas.ManifestEntry) error {
	name := schemas.ManifestPath
	if m.Format != schemas.FormatName || m.FormatVersion != h.FormatVersion || m.RunID != h.RunID {
		return fmt.Errorf("%s: %w: format, version or run id differ from the header", name, ErrBadManifest)
	}
	if len(m.Entries) != len(seen) {
		return fmt.Errorf("%s: %w: lists %d entries, the archive has %d", name, ErrBadManifest, len(m.Entries), len(seen))
	}
	for i, e := range m.Entries {
		s := seen[i]
		if e.Path != s.Path {
			return fmt.Errorf("%s: %w: entry %d is %q, the archive has %q", name, ErrBadManifest, i, e.Path, s.Path)
		}
		if e.Size != s.Size || e.SHA256 != s.SHA256 {
			return fmt.Errorf("entry %q: %w: manifest says %d bytes sha256 %s, read %d bytes sha256 %s",
				e.Path, ErrChecksum, e.Size, e.SHA256, s.Size, s.SHA256)
		}
		if kind, _, _ := classify(e.Path); (kind == KindTable) != (e.Rows != nil) {
			return fmt.Errorf("%s: %w: entry %q: rows must be given for tables and only for tables", name, ErrBadManifest, e.Path)
		}
	}
	return nil
}
