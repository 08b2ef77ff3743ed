package convert

import (
	"context"
	"fmt"
	"sort"
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

// registered returns the readers in Kind order.
func registered() []Reader {
	readersMu.RLock()
	defer readersMu.RUnlock()
	out := make([]Reader, 0, len(readers))
	for _, r := range readers {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
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
	if kind == schemas.SourceClearMLOffline || kind == schemas.SourceCometOffline {
		return true
	}
	_, ok := reader(kind)
	return ok
}

// sessionNames lists what --session takes, for its error.
func sessionNames() string {
	s := "a ClearML offline session, a Comet offline zip"
	rs := registered()
	for i, r := range rs {
		if i == len(rs)-1 {
			s += " or "
		} else {
			s += ", "
		}
		s += r.Name
	}
	return s
}

// Session is a tracker session being read by a registered [Reader]:
// its root on disk and the run being filled. Its files are read through
// the root, never through a link.
type Session struct{ s *session }

// Root returns the session's folder.
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
	args := &Params{Rows: rows, byKey: map[string]int{}}
	for i, row := range rows {
		args.byKey[row.Key] = i
	}
	s.s.r.describeArgs(args, nil)
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
	r.Info.RunID = sessionID(r.Info.SourceKind, recorded, sessionKey)
}

// PyParam parses a value a tracker stored as Python's str() of a
// training argument, typed by the Python type name (NoneType, bool,
// int, float, str, list…); a value that does not parse as its type is
// kept as text.
func PyParam(section, key string, pos int, value, typ string) schemas.ParamRow {
	return pyParam(section, key, pos, value, typ)
}
