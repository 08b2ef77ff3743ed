package sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
)

// What a checkpoint says about an archive at one destination (`yoloarchive
// status`). The words are sync's where they mean the same.
const (
	// StandingSynced: the checkpoint records this archive (every link of a
	// chain whose final link arrived) synced and read back.
	StandingSynced = StatusSynced
	// StandingPartial: a chain of a run still training was synced as far as
	// its links go; the remote run stays open until the final link.
	StandingPartial = StatusPartial
	// StandingBehind: the destination holds a later state of the run than
	// this archive (more links of its chain).
	StandingBehind = StatusBehind
	// StandingOutOfDate: the archive holds more than the destination was
	// sent (new links, or another capture of the run): sync it again.
	StandingOutOfDate = "out-of-date"
	// StandingFailed: the last sync did not finish (it failed or was
	// interrupted); running it again resumes.
	StandingFailed = StatusFailed
	// StandingSyncing: a sync holds the run's lock now.
	StandingSyncing = "syncing"
	// StandingDamaged: the checkpoint file cannot be read.
	StandingDamaged = "damaged"
)

// Checkpoint is one checkpoint file of a Store.
type Checkpoint struct {
	// File is the checkpoint file; Lock its lock file.
	File string
	Lock string
	// State is the checkpoint, nil when it could not be read (Err).
	State *State
	Err   error
}

// Checkpoints reads every checkpoint of the store, sorted by file name.
func (st *Store) Checkpoints() ([]Checkpoint, error) {
	files, err := filepath.Glob(filepath.Join(st.Dir, "sync", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := make([]Checkpoint, 0, len(files))
	for _, f := range files {
		c := Checkpoint{File: f, Lock: strings.TrimSuffix(f, ".json") + ".lock"}
		data, err := os.ReadFile(f)
		if err != nil {
			c.Err = err
		} else {
			s := &State{}
			if err := json.Unmarshal(data, s); err != nil {
				c.Err = fmt.Errorf("%s is damaged (%v): delete it to sync this run from the start", f, err)
			} else if s.Version != StateVersion {
				c.Err = fmt.Errorf("%s has checkpoint version %d, this yoloarchive reads %d", f, s.Version, StateVersion)
			} else {
				s.store, s.path = st, f
				c.State = s
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// Held reports whether a live process holds the lock file (a sync of the
// run is running). A lock file nobody holds is left over by a sync that
// ended or died: flock locks end with their process.
func Held(lock string) bool {
	l := flock.New(lock, flock.SetFlag(os.O_RDWR))
	defer l.Close()
	locked, err := l.TryLock()
	return err == nil && !locked
}

// removeLock removes a lock file nobody holds, taking the lock first so
// that a sync starting meanwhile is never left without one (Store.Lock
// checks that the file it locked is still the one at its path). It
// reports whether the file was removed; a held lock is left alone.
func removeLock(lock string) (bool, error) {
	l := flock.New(lock, flock.SetFlag(os.O_RDWR))
	defer l.Close()
	locked, err := l.TryLock()
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case errors.As(err, &pe):
		return false, err // the file cannot be opened
	case err != nil || !locked:
		return false, nil // held, or no locks here
	}
	if !sameFile(lock, l) {
		return false, nil
	}
	return true, os.Remove(lock)
}

// Cleaned says what Clean removed.
type Cleaned struct {
	// States are the checkpoint files of archives that no longer exist.
	States []string `json:"states"`
	// Locks are lock files nobody held.
	Locks []string `json:"locks"`
	// Kept are checkpoints without an archive path (written before
	// yoloarchive recorded it), which Clean cannot judge.
	Kept []string `json:"kept_without_path,omitempty"`
}

// Clean removes the checkpoints whose archive no longer exists (with
// their locks, unless a sync holds them) and every lock file nobody
// holds.
func (st *Store) Clean() (*Cleaned, error) {
	cps, err := st.Checkpoints()
	if err != nil {
		return nil, err
	}
	res := &Cleaned{States: []string{}, Locks: []string{}}
	for _, c := range cps {
		if c.State == nil {
			continue
		}
		if c.State.Path == "" {
			res.Kept = append(res.Kept, c.File)
			continue
		}
		if ArchiveExists(c.State.Path) || Held(c.Lock) {
			continue
		}
		if err := os.Remove(c.File); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, err
		}
		res.States = append(res.States, c.File)
	}
	locks, err := filepath.Glob(filepath.Join(st.Dir, "sync", "*.lock"))
	if err != nil {
		return res, err
	}
	sort.Strings(locks)
	for _, l := range locks {
		removed, err := removeLock(l)
		if err != nil {
			return res, err
		}
		if removed {
			res.Locks = append(res.Locks, l)
		}
	}
	return res, nil
}

// ArchiveExists reports whether the archive at p is on disk: a file, or a
// chain's base name with links beside it.
func ArchiveExists(p string) bool {
	if st, err := os.Stat(p); err == nil {
		return st.Mode().IsRegular()
	}
	t, err := chain.Resolve(p)
	return err == nil && t.Chain && len(t.Links) > 0
}

// Standing is what one checkpoint says about one archive.
type Standing struct {
	Archive     string `json:"archive"`
	RunID       string `json:"run_id"`
	Destination string `json:"destination"`
	Status      string `json:"status"`
	// Detail says what the status rests on, in words.
	Detail   string `json:"detail,omitempty"`
	RemoteID string `json:"remote_id,omitempty"`
	URL      string `json:"url,omitempty"`
	// Links is the number of a chain's links the destination was sent.
	Links int `json:"links,omitempty"`
	// SyncedAt is when the read-back matched; Updated when the checkpoint
	// was last written.
	SyncedAt *time.Time `json:"synced_at,omitempty"`
	Updated  *time.Time `json:"updated,omitempty"`
	// Checkpoint is the checkpoint file.
	Checkpoint string `json:"checkpoint"`
	Error      string `json:"error,omitempty"`
}

// ArchiveState is what is known of an archive on disk, to compare with a
// checkpoint: its digest (a chain's head link's) and a chain's links.
type ArchiveState struct {
	Path   string
	RunID  string
	Digest string
	Links  []string
	Final  bool
}

// StandingOf says what checkpoint c says about the archive a (nil: only what
// the checkpoint itself says, the archive being judged from its recorded
// path's headers).
func StandingOf(c Checkpoint, a *ArchiveState) Standing {
	ch := Standing{Checkpoint: c.File}
	if c.State == nil {
		ch.Status, ch.Error = StandingDamaged, c.Err.Error()
		return ch
	}
	s := c.State
	ch.RunID, ch.Destination, ch.RemoteID, ch.URL, ch.Links = s.RunID, s.Destination, s.RemoteID, s.URL, len(s.Chain)
	ch.Archive = s.Path
	if a != nil {
		ch.Archive = a.Path
	}
	if !s.SyncedAt.IsZero() {
		t := s.SyncedAt
		ch.SyncedAt = &t
	}
	if !s.Updated.IsZero() {
		t := s.Updated
		ch.Updated = &t
	}
	switch {
	case Held(c.Lock):
		ch.Status, ch.Detail = StandingSyncing, "a sync of this run to this destination is running"
		return ch
	case !s.Synced:
		ch.Status, ch.Detail = StandingFailed, fmt.Sprintf("the last sync stopped after %d steps without finishing: run it again to resume", len(s.Done))
		return ch
	}
	if a == nil {
		a = headerState(s)
	}
	switch {
	case a == nil:
		ch.Status = StandingSynced
		ch.Detail = "synced (the archive is not on this machine to compare)"
		if s.Path == "" {
			ch.Detail = "synced (the checkpoint predates recorded archive paths: give the archive to compare)"
		}
	case len(a.Links) > 0 && len(s.Chain) > 0:
		n := min(len(a.Links), len(s.Chain))
		switch {
		case !slices.Equal(a.Links[:n], s.Chain[:n]):
			ch.Status, ch.Detail = StandingOutOfDate, "the chain's links differ from those synced (captured again?): sync it again"
		case len(a.Links) > len(s.Chain):
			ch.Status, ch.Detail = StandingOutOfDate, fmt.Sprintf("%d of %d links synced: sync again to send the rest", len(s.Chain), len(a.Links))
		case len(a.Links) < len(s.Chain):
			ch.Status, ch.Detail = StandingBehind, fmt.Sprintf("the destination has %d links, this chain %d", len(s.Chain), len(a.Links))
		case !a.Final:
			ch.Status, ch.Detail = StandingPartial, fmt.Sprintf("all %d links synced; the run was still training at the last one", len(a.Links))
		default:
			ch.Status, ch.Detail = StandingSynced, fmt.Sprintf("all %d links synced, the final one included", len(a.Links))
		}
	case a.Digest != "" && a.Digest != s.Archive:
		ch.Status, ch.Detail = StandingOutOfDate, fmt.Sprintf("archive %.12s was synced, this one is %.12s (another capture of the run): sync it again", s.Archive, a.Digest)
	default:
		ch.Status, ch.Detail = StandingSynced, "synced and read back"
	}
	return ch
}

// headerState reads what the checkpoint's recorded archive path holds
// without reading whole archives: a chain's links (by name, and the final
// flag of its last link's header). A complete archive's digest would need
// a full read; it is left empty (taken as the one synced).
func headerState(s *State) *ArchiveState {
	if s.Path == "" || !ArchiveExists(s.Path) {
		return nil
	}
	a := &ArchiveState{Path: s.Path, RunID: s.RunID}
	if len(s.Chain) == 0 {
		return a
	}
	links, _, err := chain.Files(s.Path)
	if err != nil || len(links) == 0 {
		return nil
	}
	// Link digests need full reads: compare counts, taking the synced
	// prefix as the same links.
	a.Links = make([]string, len(links))
	copy(a.Links, s.Chain[:min(len(links), len(s.Chain))])
	for i := len(s.Chain); i < len(links); i++ {
		a.Links[i] = "unsynced"
	}
	if h, err := archive.ReadHeader(links[len(links)-1]); err == nil && h.Chain != nil {
		a.Final = h.Chain.Final
	}
	return a
}
