package convert

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// errLink means a path of a run directory goes through a symbolic link,
// which capture never follows (docs/security.md, "Reading nothing from
// outside").
var errLink = errors.New("a symbolic link, not followed")

// errNotRegular means a path of a run directory is a FIFO, socket,
// device or directory where a regular file is expected.
var errNotRegular = errors.New("not a regular file")

// srcDir reads the files of one run directory and nothing else. Files are
// opened through an [os.Root], so that no path, not even one raced in
// while the capture runs, leads out of the directory; and a symbolic link
// on the way (the file itself or a folder above it) is refused, inside as
// well as outside, so that what is read is what the listing saw.
//
// A session can also be read from a tree held in memory (see [ReadFS]):
// mem is then that tree and root is nil. The same checks apply, through
// the tree's Lstat.
type srcDir struct {
	dir  string
	root *os.Root
	mem  fs.ReadLinkFS
}

// srcFile is a file a srcDir opened: an *os.File, or a file of the tree
// in memory.
type srcFile interface {
	fs.File
	io.Seeker
	io.ReaderAt
}

// openSrcDir opens the run directory dir. dir itself may be a symbolic
// link to the directory (the caller has said so).
func openSrcDir(dir string) (*srcDir, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &srcDir{dir: dir, root: root}, nil
}

// memDir reads the tree fsys, named dir in messages, in place of a
// directory on disk.
func memDir(dir string, fsys fs.ReadLinkFS) *srcDir {
	return &srcDir{dir: dir, mem: fsys}
}

// Close releases the directory.
func (d *srcDir) Close() error {
	if d == nil || d.root == nil {
		return nil
	}
	return d.root.Close()
}

// path is the path on disk of rel, for messages.
func (d *srcDir) path(rel string) string {
	return filepath.Join(d.dir, filepath.FromSlash(rel))
}

// lstat returns the information of rel ("/"-separated, relative to the
// directory) without following links: a link at rel or at any folder
// above it is an error wrapping errLink.
func (d *srcDir) lstat(rel string) (fs.FileInfo, error) {
	rel = path.Clean(rel)
	if !fs.ValidPath(rel) || rel == "." {
		return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: fs.ErrInvalid}
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		st, err := d.lstatOne(p)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: underlying(err)}
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return nil, &fs.PathError{Op: "open", Path: d.path(p), Err: errLink}
		}
		if i < len(parts)-1 && !st.IsDir() {
			return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: syscall.ENOTDIR}
		}
		if i == len(parts)-1 {
			return st, nil
		}
	}
	panic("unreachable")
}

// lstatOne returns the information of p, the link itself when p is one.
func (d *srcDir) lstatOne(p string) (fs.FileInfo, error) {
	if d.root == nil {
		return d.mem.Lstat(p)
	}
	return d.root.Lstat(filepath.FromSlash(p))
}

// underlying returns the error inside a *fs.PathError, whose path is the
// root-relative one.
func underlying(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// isFile reports whether rel is a regular file reached without links.
func (d *srcDir) isFile(rel string) bool {
	st, err := d.lstat(rel)
	return err == nil && st.Mode().IsRegular()
}

// exists reports whether rel is a regular file, itself not a link (a
// folder above it may be one inside the directory: opening it then says
// so).
func (d *srcDir) exists(rel string) bool {
	st, err := d.lstatOne(path.Clean(rel))
	return err == nil && st.Mode().IsRegular()
}

// isDir reports whether rel is a directory reached without links.
func (d *srcDir) isDir(rel string) bool {
	st, err := d.lstat(rel)
	return err == nil && st.IsDir()
}

// open opens the regular file rel for reading. A link, a FIFO or any
// other non-regular file is refused before it is opened (a FIFO would
// block the read forever); the file opened is checked to be the one
// looked at, so a file swapped for a link in between is refused too.
func (d *srcDir) open(rel string) (srcFile, error) {
	st, err := d.lstat(rel)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: errNotRegular}
	}
	if d.root == nil {
		// A tree in memory changes under nobody: its file is the one
		// looked at.
		f, err := d.mem.Open(path.Clean(rel))
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: underlying(err)}
		}
		sf, ok := f.(srcFile)
		if !ok {
			f.Close()
			return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: errNotRegular}
		}
		return sf, nil
	}
	f, err := d.root.OpenFile(filepath.FromSlash(path.Clean(rel)), os.O_RDONLY|syscall.O_NONBLOCK|oNoFollow, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: underlying(err)}
	}
	got, err := f.Stat()
	if err != nil || !got.Mode().IsRegular() || !os.SameFile(st, got) {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: d.path(rel), Err: fmt.Errorf("%w (the file changed while it was opened)", errNotRegular)}
	}
	return f, nil
}

// readFile reads the regular file rel whole.
func (d *srcDir) readFile(rel string) ([]byte, error) {
	f, err := d.open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", d.path(rel), err)
	}
	return data, nil
}

// opener returns a function that opens rel again later (when the archive
// is written), with the same checks.
func (d *srcDir) opener(rel string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return d.open(rel) }
}

// walk lists the directory's entries below it, never following a link:
// fn gets every entry's "/"-separated path and type; directories are
// descended unless fn returns fs.SkipDir.
func (d *srcDir) walk(fn func(rel string, e fs.DirEntry, err error) error) error {
	var fsys fs.FS = d.mem
	if d.root != nil {
		fsys = d.root.FS()
	}
	return fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if p == "." {
			return err
		}
		return fn(p, e, err)
	})
}

// resolveLink returns the real path of src when src itself is a symbolic
// link (to a run directory or session), and "" when it is not one. A run
// given as a link is captured as the directory it leads to, as if that
// had been given (with or without a trailing slash).
func resolveLink(src string) (string, error) {
	st, err := os.Lstat(strings.TrimRight(src, string(filepath.Separator)))
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return "", nil
	}
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", fmt.Errorf("%s: a symbolic link that does not resolve: %w", src, underlying(err))
	}
	return filepath.Abs(real)
}
