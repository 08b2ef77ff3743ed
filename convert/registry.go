package convert

import (
	"archive/zip"
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// A Reader is a kind of tracker session that [Read] captures, found by
// its folder and read through a [Session]. A package registers one with
// [RegisterReader] from its init; the command imports that package by
// one line.
type Reader struct {
	// Kind is the run table's source_kind (a schemas.Source* value).
	Kind string
	// Name says what the source is in messages ("a run of an MLflow file
	// store").
	Name string
	// IsRun reports whether dir is a run of this source.
	IsRun func(dir string) bool
	// Store, when not nil, reports whether dir is a store of runs of
	// this source (captured with --recursive, one archive per run);
	// StoreName names it in the error ("an MLflow file store").
	Store     func(dir string) bool
	StoreName string
	// LoggedFrom, when not nil, returns the Ultralytics run directory
	// the run at src was logged from, "" when there is none: the run is
	// then captured as a session merged into that directory.
	LoggedFrom func(src string) string
	// Read reads the session at s.Root() into s.Run().
	Read func(ctx context.Context, s *Session) error

	// Order places the reader among the others when a folder is tried
	// against each (lower first; equal: in Kind order).
	Order int
	// Root, when not nil, returns the session folder to read for the
	// folder src (a store's only session, say); nil reads src.
	Root func(src string) string
	// Zip, when not nil, reports whether a zip whose root holds the
	// entries names is a session of this kind (read extracted);
	// ZipFiles names what it looks for in the error for a zip of no
	// kind ("task.json (ClearML offline session)").
	Zip      func(names map[string]bool) bool
	ZipFiles string
	// ZipRefused, when not nil, says why a zip of no kind whose root
	// holds names is still not one of this kind ("" when it has
	// nothing to say).
	ZipRefused func(names map[string]bool) string
	// FS says that Read reads the session through the Session only
	// (never s.Root() on disk), so that [ReadFS] can read it from a tree
	// in memory.
	FS bool
}

var (
	readersMu sync.RWMutex
	readers   = map[string]Reader{}
)

// RegisterReader adds a session reader. It panics on a reader with no
// Kind, IsRun or Read, or a Kind registered twice: a programming error
// found at start.
func RegisterReader(r Reader) {
	readersMu.Lock()
	defer readersMu.Unlock()
	if r.Kind == "" || r.IsRun == nil || r.Read == nil {
		panic("convert: RegisterReader: Kind, IsRun and Read are required")
	}
	if _, dup := readers[r.Kind]; dup {
		panic("convert: RegisterReader: " + r.Kind + " registered twice")
	}
	readers[r.Kind] = r
}

// registered returns the readers in Order, then Kind order.
func registered() []Reader {
	readersMu.RLock()
	defer readersMu.RUnlock()
	out := make([]Reader, 0, len(readers))
	for _, r := range readers {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// reader returns the registered reader of kind.
func reader(kind string) (Reader, bool) {
	readersMu.RLock()
	defer readersMu.RUnlock()
	r, ok := readers[kind]
	return r, ok
}

// detectRegistered returns the kind of the registered reader whose run
// src is, "" when none.
func detectRegistered(src string) string {
	for _, r := range registered() {
		if r.IsRun(src) {
			return r.Kind
		}
	}
	return ""
}

// storeError says which registered store src is, nil when none.
func storeError(src string) error {
	for _, r := range registered() {
		if r.Store != nil && r.Store(src) {
			return fmt.Errorf("%s: %w: %s: capture its runs with --recursive (one archive per run)", src, ErrNotRun, r.StoreName)
		}
	}
	return nil
}

// loggedFrom returns the run directory a run of a registered source of
// kind was logged from, "" when none.
func loggedFrom(kind, src string) string {
	if r, ok := reader(kind); ok && r.LoggedFrom != nil {
		return r.LoggedFrom(src)
	}
	return ""
}

// isSession reports whether kind is read as a tracker session.
func isSession(kind string) bool {
	_, ok := reader(kind)
	return ok
}

// sessionNames lists what --session takes, for its error, in Kind
// order.
func sessionNames() string {
	s := ""
	rs := registered()
	sort.Slice(rs, func(i, j int) bool { return rs[i].Kind < rs[j].Kind })
	for i, r := range rs {
		switch {
		case i == 0:
		case i == len(rs)-1:
			s += " or "
		default:
			s += ", "
		}
		s += r.Name
	}
	if s == "" {
		return "a tracker session (none is registered)"
	}
	return s
}

// detectZip tells the kind of the session zip src by the entries at its
// root.
func detectZip(src string) (string, error) {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return "", fmt.Errorf("%s: %w: not a run directory, and not a readable zip (%v)", src, ErrNotRun, err)
	}
	defer zr.Close()
	has := map[string]bool{}
	for _, f := range zr.File {
		has[f.Name] = true
	}
	rs := registered()
	var files []string
	for _, r := range rs {
		if r.Zip == nil {
			continue
		}
		if r.Zip(has) {
			return r.Kind, nil
		}
		files = append(files, r.ZipFiles)
	}
	for _, r := range rs {
		if r.ZipRefused == nil {
			continue
		}
		if why := r.ZipRefused(has); why != "" {
			return "", fmt.Errorf("%s: %w: %s", src, ErrNotRun, why)
		}
	}
	if len(files) == 0 {
		return "", fmt.Errorf("%s: %w: a zip, and no session read from zips is registered", src, ErrNotRun)
	}
	return "", fmt.Errorf("%s: %w: a zip with neither %s at its root", src, ErrNotRun, strings.Join(files, " nor "))
}

// Session is a tracker session being read by a registered [Reader]:
// its root on disk and the run being filled. Its files are read through
// the root, never through a link.
type Session struct{ s *session }

// Root returns the session's folder (a zip's extraction folder; for a
// session [ReadFS] reads, the name it was given, which is on no disk).
func (s *Session) Root() string { return s.s.root }

// Run returns the run being filled: its tables (Info, Params, Scalars,
// Summary, Images, Assets) are the reader's to append to.
func (s *Session) Run() *Run { return s.s.r }

// AddSessionFile stores the session's own file rel (relative to the
// root) as a session_file asset.
func (s *Session) AddSessionFile(ctx context.Context, rel string) error {
	return s.s.asset(ctx, rel, schemas.RoleSessionFile, "")
}

// AddArtifact stores the file rel (relative to the root), logged under
// name, as an image or an asset with the role its name gives it (the
// run directory's file names). A damaged image is recorded as a
// session_image gap; a file that cannot be read is an error.
func (s *Session) AddArtifact(ctx context.Context, rel, name string) error {
	r := s.s.r
	f := classifyFile(name)
	if f.Image {
		img, err := s.s.image(ctx, rel)
		if err != nil {
			r.gap(schemas.GapSessionImage, fmt.Sprintf("artifact %s: %v", name, err), "")
			return nil
		}
		img.FileName, img.Name, img.Role, img.Step = name, stem(name), f.Role, f.Step
		r.Images = append(r.Images, img)
		return nil
	}
	sum, _, err := s.s.storeFile(ctx, rel)
	if err != nil {
		return err
	}
	r.Assets = append(r.Assets, schemas.AssetRow{Blob: sum.SHA256, Role: f.Role, FileName: name, Size: sum.Size, MediaType: mediaType(name)})
	return nil
}

// Gap records something the archive lacks, with a hint of how to get it.
func (s *Session) Gap(item, reason, hint string) {
	s.s.r.gap(item, reason, hint)
}

// DescribeArgs fills the run row (task, save_dir, dataset, epochs,
// version…) from the training arguments the session logged (rows, as
// parsed by [PyParam]); none is recorded as a settings gap. The rows are
// not added to the run's params: the reader adds them where they belong.
func (s *Session) DescribeArgs(rows []schemas.ParamRow) {
	s.s.r.describeArgs(NewParams(rows), s.s.vr)
}

// VersionAtLeast records a fact showing that the session was written by
// Ultralytics v ("8.3.21") or later, for [Session.DescribeArgs] to date
// the run with.
func (s *Session) VersionAtLeast(v, fact string) { s.version(v, fact, true) }

// VersionAtMost records a fact showing that the session was written by
// Ultralytics v or earlier.
func (s *Session) VersionAtMost(v, fact string) { s.version(v, fact, false) }

// VersionEvidence records a fact about what wrote the session that
// bounds no release.
func (s *Session) VersionEvidence(fact string) {
	s.vrange().evidence = append(s.vrange().evidence, fact)
}

func (s *Session) version(v, fact string, least bool) {
	ver, ok := parseVersion(v)
	if !ok {
		panic("convert: Session: bad version " + v) // the reader's own constant
	}
	if least {
		s.vrange().atLeast(ver, fact)
	} else {
		s.vrange().atMost(ver, fact)
	}
}

func (s *Session) vrange() *versionRange {
	if s.s.vr == nil {
		s.s.vr = newVersionRange()
	}
	return s.s.vr
}

// NewParams indexes parameter rows by key, for the typed lookups of
// [Params].
func NewParams(rows []schemas.ParamRow) *Params {
	p := &Params{Rows: rows, byKey: map[string]int{}}
	for i, row := range rows {
		p.byKey[row.Key] = i
	}
	return p
}

// Finish completes the run row once the reader is done: the task from
// the metric names when the arguments did not give it, and the run id:
// recorded (the yoloarchive.run_id a replay wrote into the session)
// when it is one, else one derived from sessionKey, the session's own
// id in its store.
func (s *Session) Finish(recorded, sessionKey string) {
	r := s.s.r
	if r.Info.Task == "" {
		m := map[string]bool{}
		for _, sc := range r.Scalars {
			m[sc.Metric] = true
		}
		r.Info.Task = taskFromMetrics(m)
	}
	s.SetRunID(recorded, sessionKey)
}

// Path returns the path of the session's file rel, for messages.
func (s *Session) Path(rel string) string { return s.s.dir.path(rel) }

// Open opens the session's regular file rel ("/"-separated, relative to
// the root) for reading, through the root: a link on the way, or a file
// that is not a regular one, is refused (an error wrapping
// fs.ErrNotExist when it is not there).
func (s *Session) Open(rel string) (fs.File, error) { return s.s.dir.open(rel) }

// ReadFile reads the session's regular file rel whole, as [Session.Open]
// opens it.
func (s *Session) ReadFile(rel string) ([]byte, error) { return s.s.dir.readFile(rel) }

// ValidPath reports whether rel is a name that stays inside the session,
// as a zip entry's must ("/"-separated, no "..", not absolute).
func (s *Session) ValidPath(rel string) bool { return checkZipName(rel) == nil }

// Digest returns the SHA-256 (hex) of the session's file rel once it is
// stored, "" before.
func (s *Session) Digest(rel string) string { return s.s.stored[rel].SHA256 }

// Exists reports whether rel names a regular file of the session: a
// name that stays inside it (as a zip entry's must), itself not a link.
func (s *Session) Exists(rel string) bool {
	return checkZipName(rel) == nil && s.s.dir.exists(rel)
}

// AddAsset stores the session's file rel as an asset of role, with the
// session's record of it (JSON, "" when none).
func (s *Session) AddAsset(ctx context.Context, rel, role, record string) error {
	return s.s.asset(ctx, rel, role, record)
}

// Image stores the session's image rel and returns its row (size and
// media type read from its header, FileName rel, Name its stem), for the
// reader to complete and append to the run's Images. A damaged image is
// an error.
func (s *Session) Image(ctx context.Context, rel string) (schemas.ImageRow, error) {
	return s.s.image(ctx, rel)
}

// FileRole returns the role the file name gives a file of a run
// directory (schemas.Role*; RoleOtherImage for an image it says nothing
// of).
func (s *Session) FileRole(name string) string { return classifyFile(name).Role }

// Warn records a problem that did not stop the capture.
func (s *Session) Warn(msg string) { s.s.r.warn(msg) }

// RecordedGaps recreates the gaps a yoloarchive replay recorded in the
// session (list, comma-separated: what the archive it was written from
// lacked).
func (s *Session) RecordedGaps(list string) { s.s.r.recordedGaps(list) }

// SetRunID sets the run id: recorded (the yoloarchive.run_id a replay
// wrote into the session) when it is one, else one derived from
// sessionKey, the session's own id in its store.
func (s *Session) SetRunID(recorded, sessionKey string) {
	r := s.s.r
	r.Info.RunID = sessionID(r.Info.SourceKind, recorded, sessionKey)
}

// PyParam parses a value a tracker stored as Python's str() of a
// training argument, typed by the Python type name (NoneType, bool,
// int, float, str, list…); a value that does not parse as its type is
// kept as text.
func PyParam(section, key string, pos int, value, typ string) schemas.ParamRow {
	return pyParam(section, key, pos, value, typ)
}
