// Package scratch makes the temporary files and directories yoloarchive
// writes before it renames them into place (archives, exported tables,
// checkpoints, spools, extracted zips), so that none outlives its writer:
//
//   - Each is named .LABEL.yoloarchive-PID-RANDOM.tmp and stays locked
//     (flock) by its writer until it is renamed or removed. A later
//     process that creates scratch files in the same directory removes
//     every such file whose lock it can take: the writer was killed
//     (SIGKILL, a crash, a power cut). A live writer's files are never
//     touched, whatever the PID in their name.
//   - The files and directories of this process are registered until
//     they are renamed or removed: [RemoveAll] removes what is left when
//     the program must stop at once (a signal, after a short grace).
//
// Where the file system has no locks, a file is reclaimed when the PID in
// its name is no live process of this machine and it has not changed for
// an hour.
package scratch

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	gosync "sync"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// ErrStopped is returned when scratch space is asked for after RemoveAll:
// the program is stopping.
var ErrStopped = errors.New("scratch: stopping")

// staleAge is how long a file on a file system without locks must be
// unchanged, with its writer's PID gone, before it is reclaimed.
const staleAge = time.Hour

// name matches the names this package gives; the first group is the PID.
var name = gosync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\..*\.yoloarchive-([0-9]+)-[0-9a-f]+\.tmp$`) })

var (
	mu      gosync.Mutex
	live    = map[string]*flock.Flock{} // path → its lock
	swept   = map[string]bool{}         // directories already swept
	stopped bool
	// critical is held for reading during renames into place, and for
	// writing by RemoveAll, so that the program never stops between a
	// rename that moves an old file aside and the one that replaces it.
	critical gosync.RWMutex
)

// umask is the process's file mode creation mask, read once while the
// program starts (setting it is process-wide: reading it later, with
// other goroutines creating files, would race).
var umask = readUmask()

// FileMode is the mode of an output file (an archive, an export, an
// offline zip) once renamed into place: 0666 less the umask, what
// os.Create would give it. Scratch files are 0600 until then; private
// state (checkpoints, the ledger) stays 0600.
func FileMode() os.FileMode { return 0o666 &^ umask }

// DirMode is the mode of an output directory renamed into place (an
// offline session folder): 0777 less the umask.
func DirMode() os.FileMode { return 0o777 &^ umask }

// Create creates a new scratch file in dir (the current directory when
// empty), open for writing, with mode 0600.
func Create(dir, label string) (*os.File, error) {
	var f *os.File
	_, err := create(dir, label, func(p string) error {
		if f != nil { // an earlier try, swept away
			f.Close()
		}
		var err error
		f, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		return err
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, err
	}
	return f, nil
}

// Mkdir creates a new scratch directory in dir (the system's temporary
// directory when empty), with mode 0700, and returns its path.
func Mkdir(dir, label string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	return create(dir, label, func(p string) error { return os.Mkdir(p, 0o700) })
}

// create sweeps dir once, then makes a new scratch path with mk and locks
// it. A path swept away by another process between mk and the lock is
// made again.
func create(dir, label string, mk func(string) error) (string, error) {
	if dir == "" {
		dir = "."
	}
	sweepOnce(dir)
	for try := 0; ; try++ {
		mu.Lock()
		if stopped {
			mu.Unlock()
			return "", ErrStopped
		}
		mu.Unlock()
		var rnd [6]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return "", err
		}
		p := filepath.Join(dir, fmt.Sprintf(".%s.yoloarchive-%d-%s.tmp", label, os.Getpid(), hex.EncodeToString(rnd[:])))
		if err := mk(p); err != nil {
			if errors.Is(err, os.ErrExist) && try < 10 {
				continue
			}
			return "", err
		}
		lock, ok := lockPath(p)
		if !ok {
			if try < 10 {
				continue // swept before it was locked
			}
			return "", fmt.Errorf("create %s: removed as soon as it was made", p)
		}
		mu.Lock()
		live[p] = lock
		mu.Unlock()
		return p, nil
	}
}

// lockPath locks the file or directory at p with a descriptor of its own
// (so that the writer may close its own before renaming), with
// github.com/gofrs/flock (flock on Unix, LockFileEx on Windows). ok is
// false when p was removed or replaced before it was locked. A nil lock
// with ok true means the file system has no locks.
func lockPath(p string) (lock *flock.Flock, ok bool) {
	l := flock.New(p, flock.SetFlag(os.O_RDONLY))
	locked, err := l.TryLock()
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return nil, false // p cannot be opened: removed meanwhile
	case err != nil:
		return nil, true // no locks here
	case !locked:
		return nil, false // locked by a sweeper, which is removing it
	}
	if !samePath(p, l) {
		l.Close()
		return nil, false
	}
	return l, true
}

// samePath reports whether p still names the file f has open (or, when
// f has none open, the file at f's path).
func samePath(p string, f interface{ Stat() (fs.FileInfo, error) }) bool {
	a, err := os.Lstat(p)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}

// Rename moves the scratch path tmp to dst (os.Rename) and forgets it:
// it is a file in place now, not scratch.
func Rename(tmp, dst string) error {
	critical.RLock()
	defer critical.RUnlock()
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	Release(tmp)
	return nil
}

// Critical runs fn, a short sequence of renames that must not be cut
// half-way (moving an old file aside, then its replacement into place):
// RemoveAll waits for it to end.
func Critical(fn func() error) error {
	critical.RLock()
	defer critical.RUnlock()
	return fn()
}

// Release forgets the scratch path p and drops its lock, once it was
// renamed into place, or removed by its writer.
func Release(p string) {
	mu.Lock()
	lock := live[p]
	delete(live, p)
	mu.Unlock()
	if lock != nil {
		lock.Close()
	}
}

// Remove removes the scratch path p (a file or a whole directory) and
// forgets it.
func Remove(p string) error {
	err := os.RemoveAll(p)
	Release(p)
	return err
}

// criticalWait bounds how long RemoveAll waits for renames in progress (a
// few milliseconds, unless the file system hangs).
const criticalWait = 300 * time.Millisecond

// RemoveAll removes every scratch path of this process that is still
// there, after waiting for renames in progress, and refuses new ones: the
// program is about to exit. It returns the paths it removed.
func RemoveAll() []string {
	locked := make(chan struct{})
	go func() {
		critical.Lock() // never released: no rename may start after this
		close(locked)
	}()
	select {
	case <-locked:
	case <-time.After(criticalWait):
	}
	mu.Lock()
	stopped = true
	paths := make([]string, 0, len(live))
	for p := range live {
		paths = append(paths, p)
	}
	mu.Unlock()
	var removed []string
	for _, p := range paths {
		if err := os.RemoveAll(p); err == nil {
			removed = append(removed, p)
		}
		Release(p)
	}
	return removed
}

// Live returns the number of scratch paths of this process.
func Live() int {
	mu.Lock()
	defer mu.Unlock()
	return len(live)
}

func sweepOnce(dir string) {
	key := filepath.Clean(dir)
	mu.Lock()
	done := swept[key]
	swept[key] = true
	mu.Unlock()
	if !done {
		Sweep(dir)
	}
}

// Sweep removes the scratch files and directories in dir whose writer is
// gone, and returns their paths. Create and Mkdir sweep each directory
// once per process before they first write there.
func Sweep(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		m := name().FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if reclaim(p, m[1]) {
			removed = append(removed, p)
		}
	}
	return removed
}

// reclaim removes the scratch path p if its writer is gone: its lock can
// be taken (or, without locks, its PID is gone and it is old).
func reclaim(p, pid string) bool {
	f := flock.New(p, flock.SetFlag(os.O_RDONLY|syscall.O_NONBLOCK))
	defer f.Close()
	locked, err := f.TryLock()
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return false // gone meanwhile, or not ours to open
	case err == nil && !locked:
		return false // its writer holds it
	case err != nil: // no locks here
		if !gone(pid) {
			return false
		}
		if st, err := f.Stat(); err != nil || time.Since(st.ModTime()) < staleAge {
			return false
		}
	}
	if !samePath(p, f) {
		return false
	}
	return os.RemoveAll(p) == nil
}

// IsName reports whether base is the name of a scratch file or directory,
// which readers of a directory skip.
func IsName(base string) bool { return name().MatchString(base) }
