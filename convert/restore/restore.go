// Package restore rebuilds a run directory from its archive (or chain):
// every stored file of the run directory back at its original relative
// path, byte for byte, written into a scratch directory and renamed into
// place whole.
//
// The archive stores files as blobs named by their sha256 and the images
// and assets tables give each its path relative to the run directory and,
// since format 1.4, its modification time, which restore sets. It does not
// store file modes or owners (the tar entries all carry fixed metadata,
// FORMAT.md §2), nor per-file times before 1.4: restore reports those as
// gaps instead of inventing them.
package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Options configure a restore.
type Options struct {
	// Overwrite replaces a destination directory that is not empty. The
	// old directory is removed only once the new one is complete.
	Overwrite bool
}

// Result says what a restore wrote and what it could not give back.
type Result struct {
	// Archive is the archive restored (a chain's base name).
	Archive string `json:"archive"`
	// Dir is the restored run directory.
	Dir string `json:"dir"`
	// RunID and SourceKind are the run's.
	RunID      string `json:"run_id"`
	SourceKind string `json:"source_kind"`
	// Links is the number of chain links read (0 for a complete archive).
	Links int `json:"links,omitempty"`
	// Files and Bytes count the files written.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Gaps are what the restored directory lacks compared with the
	// original: files the archive describes but does not hold, the
	// capture's own gaps about files, and metadata no archive stores.
	Gaps []schemas.GapRow `json:"gaps"`
}

// ErrNotEmpty is returned when the destination is a directory that is not
// empty and Options.Overwrite is not set.
var ErrNotEmpty = errors.New("is not empty")

// file is one file to write.
type file struct {
	name  string // relative path, "/"-separated
	blob  string
	size  int64
	mtime *time.Time // the original's modification time, when stored (1.4)
}

// sessionDir matches the prefixes under which a capture with --session
// files the merged sessions' own files (session/, session-2/, …).
var sessionDir = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^session(-[0-9]+)?/`) })

// source is an opened archive or chain.
type source struct {
	*chain.Opened
}

func open(ctx context.Context, p string) (*source, error) {
	o, err := chain.OpenTables(ctx, p)
	if err != nil {
		return nil, err
	}
	return &source{o}, nil
}

// isDirSource reports whether the run was captured from a run directory
// (rather than from a tracker session, whose files restore as the
// session's folder).
func isDirSource(kind string) bool {
	switch kind {
	case schemas.SourceUltralyticsTrain, schemas.SourceUltralyticsVal, schemas.SourceYOLOv5Train:
		return true
	}
	return false
}

// isSessionAsset reports whether an asset row of a run directory's archive
// came from a session merged with --session rather than from the directory.
func isSessionAsset(a schemas.AssetRow) bool {
	if !sessionDir().MatchString(a.FileName) {
		return false
	}
	switch a.Role {
	case schemas.RoleSessionFile, schemas.RoleTrackerAsset, schemas.RoleConfusionMatrixData:
		return true
	}
	return a.Record != ""
}

// plan lists the files to write, sorted by name, and the gaps of what
// cannot be written.
func plan(t *archive.Tables) ([]file, []schemas.GapRow, error) {
	dirSource := isDirSource(t.Info.SourceKind)
	enriched := dirSource && t.Info.SessionID != ""
	byName := map[string]file{}
	var notStored []string
	var dataset, session int
	add := func(name, blob string, size int64, mtime *time.Time) error {
		if !fs.ValidPath(name) || name == "." || strings.Contains(name, `\`) {
			return fmt.Errorf("file_name %q is not a clean relative path: the archive is damaged or hostile; nothing was written", name)
		}
		if blob == "" {
			notStored = append(notStored, name)
			return nil
		}
		if f, ok := byName[name]; ok {
			if f.blob != blob {
				return fmt.Errorf("file_name %q names two different files (%.12s, %.12s): the archive is damaged; nothing was written", name, f.blob, blob)
			}
			return nil
		}
		byName[name] = file{name, blob, size, mtime}
		return nil
	}
	for _, im := range t.Images {
		switch {
		case im.Role == schemas.RoleDatasetImage:
			if im.Blob != "" {
				dataset++
			}
			continue
		case enriched && im.Kind != "" && sessionDir().MatchString(im.FileName):
			session++
			continue
		}
		if err := add(im.FileName, im.Blob, im.Size, im.MTime); err != nil {
			return nil, nil, err
		}
	}
	for _, a := range t.Assets {
		if enriched && isSessionAsset(a) {
			session++
			continue
		}
		if err := add(a.FileName, a.Blob, a.Size, a.MTime); err != nil {
			return nil, nil, err
		}
	}
	files := make([]file, 0, len(byName))
	for _, f := range byName {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	// A file and a directory of the same name cannot both be written.
	for i := 1; i < len(files); i++ {
		for j := i - 1; j >= 0 && strings.HasPrefix(files[i].name, files[j].name); j-- {
			if strings.HasPrefix(files[i].name, files[j].name+"/") {
				return nil, nil, fmt.Errorf("file_name %q is both a file and the directory of %q: the archive is damaged; nothing was written", files[j].name, files[i].name)
			}
		}
	}

	var gaps []schemas.GapRow
	if len(notStored) > 0 {
		gaps = append(gaps, schemas.GapRow{Item: "unstored_files",
			Reason: fmt.Sprintf("%d files are described but not stored, and are not restored: %s", len(notStored), list(notStored)),
			Hint:   "the capture left them out (see the archive's gaps: prediction_images, weights); restore them from the original run directory if it still exists"})
	}
	if dataset > 0 {
		gaps = append(gaps, schemas.GapRow{Item: "dataset_images",
			Reason: fmt.Sprintf("%d validation images of the dataset are stored, but they belong to the dataset, not the run directory: not restored", dataset),
			Hint:   "yoloarchive export writes the images table; the blobs can be unpacked with tar --zstd -xf"})
	}
	if session > 0 {
		gaps = append(gaps, schemas.GapRow{Item: "session_files",
			Reason: fmt.Sprintf("%d files of the tracker session merged with capture --session (session/…) are not part of the run directory: not restored", session),
			Hint:   "the session is a separate folder or zip; its files are in the archive's blobs"})
	}
	// What the capture itself recorded as missing files.
	for _, g := range t.Gaps {
		switch g.Item {
		case "weights", "model", "skipped_files", "prediction_images":
			gaps = append(gaps, g)
		}
	}
	return files, gaps, nil
}

// list names at most 5 paths.
func list(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
}

// times returns the modification time each file gets, and the mtime gap
// (Item empty when there is none). A file whose row stores its original
// time (format 1.4) gets it. Older archives store no per-file times; they
// store the run's start (the settings file's time) and end (the newest
// file's time) when time_source is file-mtime. The settings files get the
// start, every other file the end: the newest time any file of the run
// had, so that a capture of the restored directory records the same
// times. Without such times, files keep the time they are written.
func times(run schemas.RunRow, files []file) (map[string]time.Time, schemas.GapRow) {
	out := map[string]time.Time{}
	var rest []file
	for _, f := range files {
		if f.mtime != nil {
			out[f.name] = *f.mtime
		} else {
			rest = append(rest, f)
		}
	}
	if len(rest) == 0 {
		return out, schemas.GapRow{}
	}
	gap := schemas.GapRow{Item: "mtime", Hint: "keep the original run directory's times with tar or rsync -t before deleting it, or capture it again with yoloarchive 1.4 or later"}
	what := "per-file modification times are not stored in archives"
	if len(rest) < len(files) {
		names := make([]string, len(rest))
		for i, f := range rest {
			names[i] = f.name
		}
		what = fmt.Sprintf("%d files' modification times are not stored (%s)", len(rest), list(names))
	}
	if run.TimeSource != "file-mtime" || run.StartedAt == nil || run.EndedAt == nil {
		gap.Reason = what + ": files have the time they were restored"
		return out, gap
	}
	settings := false
	for _, f := range rest {
		if f.name == "args.yaml" || f.name == "opt.yaml" {
			out[f.name] = *run.StartedAt
			settings = true
		} else {
			out[f.name] = *run.EndedAt
		}
	}
	gap.Reason = what + ": every file has the run's end time " + run.EndedAt.UTC().Format(time.RFC3339Nano)
	if settings {
		gap.Reason += ", the settings file its start time " + run.StartedAt.UTC().Format(time.RFC3339Nano)
	}
	gap.Reason += " (run.started_at/ended_at, which the capture took from the files' times)"
	return out, gap
}

// modeGap is reported on every restore: tar entries carry fixed metadata.
var modeGap = schemas.GapRow{Item: "mode",
	Reason: "file modes, owners and directory times are not stored in archives: files are written 0644 and directories 0755 (less the umask)"}

// Restore rebuilds the run directory of the archive (or chain) at src as
// dir. It writes into a scratch directory beside dir and renames it into
// place only when every file is written and synced: on error or
// cancellation nothing is left at dir. dir must not exist, or be an empty
// directory (a non-empty one with Options.Overwrite); a symbolic link is
// refused.
func Restore(ctx context.Context, src, dir string, o Options) (*Result, error) {
	dir = filepath.Clean(dir)
	if err := checkDest(dir, o); err != nil {
		return nil, err
	}
	s, err := open(ctx, src)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	files, gaps, err := plan(s.Tables)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path, err)
	}
	mt, mtGap := times(s.Tables.Info, files)
	res := &Result{Archive: s.Path, Dir: dir, RunID: s.Tables.Info.RunID, SourceKind: s.Tables.Info.SourceKind, Files: len(files)}
	if len(s.Links) > 1 || s.Links[0].Header.Chain != nil {
		res.Links = len(s.Links)
	}
	for _, f := range files {
		res.Bytes += f.size
	}
	if mtGap.Item != "" {
		gaps = append(gaps, mtGap)
	}
	res.Gaps = append(gaps, modeGap)

	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := scratch.Mkdir(parent, "restore")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			scratch.Remove(tmp)
		}
	}()
	if err := write(ctx, s, tmp, files, mt); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755&scratch.DirMode()); err != nil {
		return nil, err
	}
	if err := place(tmp, dir, o); err != nil {
		return nil, err
	}
	done = true
	return res, nil
}

// checkDest refuses a destination that is a symbolic link, not a
// directory, or a directory that is not empty (without Overwrite).
func checkDest(dir string, o Options) error {
	if b := filepath.Base(dir); b == "." || b == ".." || b == string(filepath.Separator) {
		return fmt.Errorf("%s: restore replaces DIR whole by a rename: give the path of a new directory, not the current, parent or root directory", dir)
	}
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: restore writes only into a real directory; give its target or a new path", dir)
	case !st.IsDir():
		return fmt.Errorf("%s exists and is not a directory: give a new path", dir)
	}
	if o.Overwrite {
		return nil
	}
	empty, err := isEmpty(dir)
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("%s %w: give a new path, or --overwrite to replace it", dir, ErrNotEmpty)
	}
	return nil
}

func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return false, err
}

// write writes every file into tmp through an os.Root, so that no name
// can reach outside it (nor through a symbolic link placed inside).
func write(ctx context.Context, s *source, tmp string, files []file, mt map[string]time.Time) error {
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	byBlob := map[string][]string{}
	for _, f := range files {
		byBlob[f.blob] = append(byBlob[f.blob], f.name)
	}
	for _, l := range s.Links {
		err := l.Blobs(ctx, func(d string) bool { return len(byBlob[d]) > 0 }, func(e *archive.Entry) error {
			names := byBlob[e.Key]
			delete(byBlob, e.Key) // a chain stores each blob once; be safe
			if err := writeFile(root, names[0], e); err != nil {
				return err
			}
			for _, n := range names[1:] {
				if err := copyFile(root, names[0], n); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(byBlob) > 0 {
		var missing []string
		for _, names := range byBlob {
			missing = append(missing, names...)
		}
		sort.Strings(missing)
		return fmt.Errorf("%s: %w: the tables name files whose blobs no link stores: %s", s.Path, archive.ErrBadManifest, list(missing))
	}
	for _, f := range files {
		if t, ok := mt[f.name]; ok {
			if err := root.Chtimes(f.name, t, t); err != nil {
				return err
			}
		}
	}
	return syncDirs(tmp, files)
}

// writeFile creates name (and its directories) in root, refusing an
// existing file or link, and copies r into it.
func writeFile(root *os.Root, name string, r io.Reader) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFile(root *os.Root, from, to string) error {
	f, err := root.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	return writeFile(root, to, f)
}

// syncDirs syncs every directory that received entries, so that the
// rename into place publishes a complete tree.
func syncDirs(tmp string, files []file) error {
	dirs := map[string]bool{".": true}
	for _, f := range files {
		for d := path.Dir(f.name); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		h, err := os.Open(filepath.Join(tmp, filepath.FromSlash(d)))
		if err != nil {
			return err
		}
		err = h.Sync()
		h.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// place renames the complete tmp directory to dir. An empty dir is
// replaced by the rename itself; a non-empty one (Overwrite) is first
// moved aside, then removed once the new one is in place.
func place(tmp, dir string, o Options) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return scratch.Rename(tmp, dir)
	}
	if err != nil {
		return err
	}
	if !st.IsDir() || st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s changed while restoring: it is no longer a directory", dir)
	}
	if empty, err := isEmpty(dir); err != nil {
		return err
	} else if empty {
		// os.Rename does not replace a directory: remove the empty one
		// (os.Remove refuses if a file appeared meanwhile).
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("%s changed while restoring: %w", dir, err)
		}
		return scratch.Rename(tmp, dir)
	}
	if !o.Overwrite {
		return fmt.Errorf("%s %w (files appeared while restoring): give a new path, or --overwrite to replace it", dir, ErrNotEmpty)
	}
	old, err := scratch.Mkdir(filepath.Dir(dir), "restore-old")
	if err != nil {
		return err
	}
	err = scratch.Critical(func() error {
		if err := os.Rename(dir, filepath.Join(old, "dir")); err != nil {
			return err
		}
		if err := os.Rename(tmp, dir); err != nil {
			// Put the old directory back.
			return errors.Join(err, os.Rename(filepath.Join(old, "dir"), dir))
		}
		scratch.Release(tmp)
		return nil
	})
	scratch.Remove(old)
	return err
}
