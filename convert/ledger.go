package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
)

// LedgerName is the ledger's file name in an output directory.
const LedgerName = ".yoloarchive-ledger.json"

// Ledger remembers, per source, the fingerprint of its files and the
// archive captured from them, so that a bulk capture skips sources that
// have not changed. It is safe for concurrent use and saved atomically
// after every change, so an interrupted capture keeps what it recorded.
type Ledger struct {
	path    string
	mu      sync.Mutex
	entries map[string]LedgerEntry
	saved   time.Time // last save
	dirty   bool
}

// ledgerSaveEvery bounds how often Record rewrites the file: a large batch
// would otherwise rewrite it once per run. A crash loses at most this much
// of the record, which only means capturing those runs again.
const ledgerSaveEvery = 2 * time.Second

// LedgerEntry is one captured source.
type LedgerEntry struct {
	// Fingerprint covers every file's path, size and modification time
	// (as restic and rsync decide what changed).
	Fingerprint string `json:"fingerprint"`
	// Archive is the archive written; RunID and Digest identify it;
	// Size is its size, checked before a source is skipped.
	Archive string `json:"archive"`
	RunID   string `json:"run_id"`
	Digest  string `json:"digest"`
	Size    int64  `json:"size"`
	// IDScheme is how RunID was derived ([IDScheme]); an entry of
	// another scheme (or none: before v2) is captured again, so that the
	// run gets the id this yoloarchive derives.
	IDScheme string `json:"id_scheme,omitempty"`
}

// OpenLedger reads the ledger of dir; a missing ledger is empty. A damaged
// ledger is an error naming it (delete it to capture everything again).
func OpenLedger(dir string) (*Ledger, error) {
	return OpenLedgerFile(filepath.Join(dir, LedgerName))
}

// OpenLedgerFile is [OpenLedger] for the ledger at path (a shard's:
// [Shard.LedgerName]).
func OpenLedgerFile(path string) (*Ledger, error) {
	l := &Ledger{path: path, entries: map[string]LedgerEntry{}}
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Version int                    `json:"version"`
		Sources map[string]LedgerEntry `json:"sources"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Version != 1 {
		return nil, fmt.Errorf("%s: not a ledger this yoloarchive reads (%v): delete it to capture every run again", l.path, err)
	}
	if doc.Sources != nil {
		l.entries = doc.Sources
	}
	return l, nil
}

// Unchanged reports whether src was captured from files with this
// fingerprint, under an id of this yoloarchive's scheme, into an archive
// that is still there, and returns its entry.
func (l *Ledger) Unchanged(src, fingerprint string) (LedgerEntry, bool) {
	e, ok := l.Entry(src)
	if !ok || e.Fingerprint != fingerprint || e.IDScheme != IDScheme {
		return e, false
	}
	st, err := os.Stat(e.Archive)
	return e, err == nil && st.Size() == e.Size
}

// Entry returns the ledger's entry of src.
func (l *Ledger) Entry(src string) (LedgerEntry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key(src)]
	return e, ok
}

// Record stores a capture; the ledger is saved at most every two seconds
// (Flush saves the rest).
func (l *Ledger) Record(src string, e LedgerEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.IDScheme == "" {
		e.IDScheme = IDScheme
	}
	l.entries[key(src)] = e
	l.dirty = true
	if time.Since(l.saved) < ledgerSaveEvery {
		return nil
	}
	return l.save()
}

// Flush saves what Record has not saved yet.
func (l *Ledger) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.dirty {
		return nil
	}
	return l.save()
}

// save writes the ledger atomically; l.mu is held.
func (l *Ledger) save() error {
	l.saved, l.dirty = time.Now(), false
	doc := struct {
		Version int                    `json:"version"`
		Sources map[string]LedgerEntry `json:"sources"`
	}{1, l.entries}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := scratch.Create(filepath.Dir(l.path), filepath.Base(l.path))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		scratch.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		scratch.Remove(tmp.Name())
		return err
	}
	if err := scratch.Rename(tmp.Name(), l.path); err != nil {
		scratch.Remove(tmp.Name())
		return err
	}
	return nil
}

func key(src string) string {
	if abs, err := filepath.Abs(src); err == nil {
		return abs
	}
	return src
}

// Fingerprint summarizes a source's files: path, size and modification
// time of every regular file below it (or of the file itself), sorted.
func Fingerprint(src string) (string, error) {
	type item struct {
		rel        string
		size, time int64
	}
	var items []item
	if real, err := resolveLink(src); err != nil {
		return "", err
	} else if real != "" {
		src = real // a link itself has no files to walk
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || isOwnFile(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		items = append(items, item{filepath.ToSlash(rel), info.Size(), info.ModTime().UnixNano()})
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].rel < items[j].rel })
	h := sha256.New()
	for _, it := range items {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", it.rel, it.size, it.time)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
