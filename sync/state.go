package sync

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
	gosync "sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
)

// StateVersion is the version of the checkpoint file format.
const StateVersion = 1

// State is the checkpoint of one archive's sync to one destination. It is
// saved after every step that changed the remote side, so a sync that is
// interrupted resumes where it stopped instead of starting over, and a run
// is recorded as synced only after the read-back matched.
type State struct {
	Version int `json:"version"`
	// Destination identifies the remote: tracker and server address, and
	// the project or workspace (never credentials).
	Destination string `json:"destination"`
	RunID       string `json:"run_id"`
	// Archive is the digest of the archive last synced; a different
	// archive of the same run resumes into the same remote run.
	Archive string `json:"archive"`
	// RemoteID is the remote run (ClearML task id, Comet experiment key).
	RemoteID string `json:"remote_id,omitempty"`
	// URL is the remote run's web page.
	URL string `json:"url,omitempty"`
	// Done holds the steps that completed.
	Done map[string]bool `json:"done,omitempty"`
	// Values holds remote ids created on the way (project, model).
	Values map[string]string `json:"values,omitempty"`
	// Chain lists the digests of a chain's links already synced, in
	// order; a later sync of the chain sends only what newer links add.
	Chain []string `json:"chain,omitempty"`
	// Path is the archive file synced (a chain's base name), absolute, so
	// that `status --clean` can tell when it no longer exists. Checkpoints
	// written before it was recorded have none.
	Path string `json:"path,omitempty"`
	// Replace is set while a --force sync has not made its new remote
	// run yet, so that a resume after a kill still replaces the old one.
	Replace bool `json:"replace,omitempty"`
	// Synced is set once the read-back matched the archive.
	Synced   bool      `json:"synced"`
	SyncedAt time.Time `json:"synced_at,omitzero"`
	Updated  time.Time `json:"updated"`

	store *Store
	path  string
	mu    gosync.Mutex
	// pending is the chain being synced: it becomes Chain in the same
	// write that records the run synced, so a crash never separates them.
	pending []string
}

// Has reports whether a step completed.
func (s *State) Has(step string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Done[step]
}

// Mark records a completed step and saves the checkpoint.
func (s *State) Mark(step string) error {
	s.mu.Lock()
	if s.Done == nil {
		s.Done = map[string]bool{}
	}
	s.Done[step] = true
	s.mu.Unlock()
	return s.Save()
}

// Set records a value and saves the checkpoint.
func (s *State) Set(key, value string) error {
	s.mu.Lock()
	if s.Values == nil {
		s.Values = map[string]string{}
	}
	s.Values[key] = value
	s.mu.Unlock()
	return s.Save()
}

// Get returns a recorded value.
func (s *State) Get(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Values[key]
}

// SetPath records the archive's file (made absolute); saved with the
// next step.
func (s *State) SetPath(p string) {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	s.mu.Lock()
	s.Path = p
	s.mu.Unlock()
}

// Reset forgets everything but the identity (and Replace), for a forced
// fresh sync or a remote run that is gone.
func (s *State) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.RemoteID, s.URL, s.Done, s.Values, s.Synced, s.SyncedAt, s.Chain = "", "", nil, nil, false, time.Time{}, nil
}

// Steps returns the completed steps, sorted.
func (s *State) Steps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.Done {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Save writes the checkpoint atomically (temporary file, fsync, rename).
func (s *State) Save() error {
	if s.store == nil {
		return nil
	}
	s.mu.Lock()
	s.Updated = time.Now().UTC()
	if s.Synced && s.pending != nil {
		s.Chain = s.pending
	}
	data, err := json.MarshalIndent(s, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path, append(data, '\n'))
}

// Store keeps checkpoints in a directory, one file per destination and run.
type Store struct {
	// Dir is the directory; it is created when needed.
	Dir string
}

// DefaultStateDir returns $YOLOARCHIVE_STATE_DIR, else
// $XDG_STATE_HOME/yoloarchive, else ~/.local/state/yoloarchive.
func DefaultStateDir() string {
	if d := os.Getenv("YOLOARCHIVE_STATE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "yoloarchive")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "yoloarchive")
	}
	return filepath.Join(os.TempDir(), "yoloarchive-state")
}

func (st *Store) file(dest, runID, ext string) string {
	h := sha256.Sum256([]byte(dest))
	return filepath.Join(st.Dir, "sync", runID+"-"+hex.EncodeToString(h[:6])+ext)
}

// Load returns the checkpoint of run runID at destination dest, a new one
// when none was saved. A checkpoint that cannot be read is an error naming
// the file: the user decides whether to delete it.
func (st *Store) Load(dest, runID string) (*State, error) {
	path := st.file(dest, runID, ".json")
	s := &State{Version: StateVersion, Destination: dest, RunID: runID, store: st, path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("sync checkpoint %s is damaged (%v): delete it to sync this run from the start (the remote lookup still prevents a duplicate)", path, err)
	}
	if s.Version != StateVersion || s.RunID != runID || s.Destination != dest {
		return nil, fmt.Errorf("sync checkpoint %s belongs to another run or format: delete it", path)
	}
	s.store, s.path = st, path
	return s, nil
}

// Lock takes an exclusive lock on the run's checkpoint for this machine, so
// two processes never sync the same run to the same destination at once.
// The lock is released by the returned function (and by process exit).
func (st *Store) Lock(dest, runID string) (unlock func(), err error) {
	path := st.file(dest, runID, ".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		// github.com/gofrs/flock: flock on Unix, LockFileEx on Windows.
		l := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o644))
		locked, err := l.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !locked {
			return nil, fmt.Errorf("another yoloarchive process is syncing run %s to this destination (lock %s): wait for it to finish", runID, path)
		}
		// `status --clean` removes lock files nobody holds: a lock taken
		// on a file removed meanwhile is no lock; take the new file's.
		if sameFile(path, l) {
			return func() { _ = l.Close() }, nil
		}
		l.Close()
		if try >= 10 {
			return nil, fmt.Errorf("lock %s keeps being removed: is `yoloarchive status --clean` running in a loop?", path)
		}
	}
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := scratch.Create(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = scratch.Rename(tmp, path)
	}
	if err != nil {
		scratch.Remove(tmp)
	}
	return err
}

// sameFile reports whether path still names the file f has open.
func sameFile(path string, f interface{ Stat() (fs.FileInfo, error) }) bool {
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}
