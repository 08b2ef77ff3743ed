package schemas

import (
	_ "embed"
)

// Entry names of the two JSON entries of an archive.
const (
	HeaderPath   = "yoloarchive.json" // the first entry
	ManifestPath = "manifest.json"    // the last entry
)

// Header is the first entry of an archive ("yoloarchive.json"): it tells a
// reader what it is looking at before anything else is read. It is
// validated by header.schema.json.
type Header struct {
	// Format is always FormatName.
	Format string `json:"format"`
	// FormatVersion is "major.minor".
	FormatVersion string `json:"format_version"`
	// RunID is the run's stable identity (RunRow.RunID).
	RunID string `json:"run_id"`
	// SourceKind is what the run was captured from (RunRow.SourceKind).
	SourceKind string `json:"source_kind"`
	// Writer names the program and version that wrote the archive.
	Writer string `json:"writer"`
	// Tables lists the tables the archive holds, in entry order.
	Tables []string `json:"tables"`
	// Chain is set on the links of a delta chain written by `capture
	// --follow` (format 1.2): the archive then holds only what changed
	// since its predecessor. Nil for a complete archive.
	Chain *ChainLink `json:"chain,omitempty"`
}

// ChainLink places a delta archive in its chain (FORMAT.md §8).
type ChainLink struct {
	// Seq is the link's position: 0 for the first, which holds
	// everything seen so far.
	Seq int `json:"seq"`
	// Prev is the archive digest of link Seq-1 ("" for link 0).
	Prev string `json:"prev,omitempty"`
	// Final is set on the chain's last link, written once training
	// ended: results.csv has every epoch and the weights are in place.
	Final bool `json:"final"`
	// Options are the capture options the chain is written with; every
	// link of a chain has the same.
	Options string `json:"options,omitempty"`
}

// Manifest is the last entry of an archive ("manifest.json"): the size and
// sha256 of every entry before it, in order. It is validated by
// manifest.schema.json. The sha256 of the manifest's bytes is the archive
// digest: it identifies the archive's content whatever the compression.
type Manifest struct {
	// Format is always FormatName.
	Format string `json:"format"`
	// FormatVersion is "major.minor", the same as the header's.
	FormatVersion string `json:"format_version"`
	// RunID is the run's identity, the same as the header's.
	RunID string `json:"run_id"`
	// Entries lists every entry before the manifest, in archive order.
	Entries []ManifestEntry `json:"entries"`
}

// ManifestEntry describes one archive entry.
type ManifestEntry struct {
	// Path is the entry's name in the tar stream.
	Path string `json:"path"`
	// Size is the entry's size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lower-case hex sha256 of the entry's bytes.
	SHA256 string `json:"sha256"`
	// Rows is the number of rows, for tables only.
	Rows *int64 `json:"rows,omitempty"`
}

// HeaderSchema is the JSON Schema (draft 2020-12) of [Header].
//
//go:embed header.schema.json
var HeaderSchema []byte

// ManifestSchema is the JSON Schema (draft 2020-12) of [Manifest].
//
//go:embed manifest.schema.json
var ManifestSchema []byte
