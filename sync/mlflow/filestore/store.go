package filestore

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/sync/pyfmt"
)

// Names of the store's fixed entries (file_store.py FileStore).
const (
	MetaFile            = "meta.yaml"
	TrashDir            = ".trash"
	MetricsDir          = "metrics"
	ParamsDir           = "params"
	TagsDir             = "tags"
	ArtifactsDir        = "artifacts"
	DefaultExperimentID = "0"
	// DefaultExperimentName is Experiment.DEFAULT_EXPERIMENT_NAME.
	DefaultExperimentName = "Default"
	// modelsDir is the model registry's folder, which
	// _get_active_experiments skips.
	modelsDir = "models"
)

// Tags MLflow's clients set (mlflow/utils/mlflow_tags.py).
const (
	TagRunName    = "mlflow.runName"
	TagUser       = "mlflow.user"
	TagSourceName = "mlflow.source.name"
	TagSourceType = "mlflow.source.type"
)

// Store is an MLflow file store rooted at a directory. Its methods may be
// used from several goroutines, but two writers of the same file race
// (the last rename wins), as with MLflow's own FileStore.
type Store struct {
	// Dir is the store's directory, absolute.
	Dir string
	// Limits bound what the readers accept.
	Limits Limits

	root *os.Root
}

// Open opens the existing store at dir for reading and writing.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(abs)
	if err != nil {
		return nil, fmt.Errorf("mlflow store %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("mlflow store %s: not a directory", abs)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("mlflow store %s: %w", abs, err)
	}
	return &Store{Dir: abs, Limits: DefaultLimits, root: root}, nil
}

// Create opens the store at dir, making it as MLflow's FileStore does
// when its root does not exist: the directory, the Default experiment
// "0" created at now, and the .trash directory.
func Create(dir string, now time.Time) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Lstat(abs)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("mlflow store %s: %w", abs, err)
	}
	s, err := Open(abs)
	if err != nil {
		return nil, err
	}
	if fresh {
		if _, err := s.createExperiment(DefaultExperimentID, DefaultExperimentName, now); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.root.MkdirAll(TrashDir, 0o755); err != nil {
		s.Close()
		return nil, fmt.Errorf("mlflow store %s: %w", abs, err)
	}
	return s, nil
}

// Close releases the store's directory handle.
func (s *Store) Close() error { return s.root.Close() }

// rootURI is path_to_local_file_uri(root): pathlib's as_uri().
func (s *Store) rootURI() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(s.Dir)}).String()
}

// CreateExperiment creates an experiment named name at now, with a new id
// from [NewExperimentID]. It refuses a name an active experiment has.
func (s *Store) CreateExperiment(name string, now time.Time) (Experiment, error) {
	if name == "" || len([]rune(name)) > MaxExperimentNameLength {
		return Experiment{}, fmt.Errorf("invalid experiment name %q: must be 1 to %d characters", name, MaxExperimentNameLength)
	}
	exps, err := s.Experiments()
	if err != nil {
		return Experiment{}, err
	}
	for _, e := range exps {
		if e.Name == name {
			return Experiment{}, fmt.Errorf("experiment %q already exists (id %s)", name, e.ID)
		}
	}
	return s.createExperiment(NewExperimentID(), name, now)
}

func (s *Store) createExperiment(id, name string, now time.Time) (Experiment, error) {
	if err := ValidateExperimentID(id); err != nil {
		return Experiment{}, err
	}
	ms := now.UnixMilli()
	e := Experiment{ID: id, Name: name, ArtifactLocation: s.rootURI() + "/" + id,
		LifecycleStage: Active, CreationTime: ms, LastUpdateTime: ms}
	b, err := experimentYAML(e)
	if err != nil {
		return Experiment{}, err
	}
	if err := s.root.Mkdir(id, 0o755); err != nil {
		return Experiment{}, fmt.Errorf("create experiment %s: %w", id, err)
	}
	if err := s.writeFile(path.Join(id, MetaFile), b); err != nil {
		return Experiment{}, err
	}
	return e, nil
}

// NewExperimentID returns a new experiment id as MLflow 2.x's FileStore
// makes them (name_utils.py _generate_unique_integer_id): 18 decimal
// digits, the first not 0.
func NewExperimentID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1' + b[0]%9
	}
	return string(b[:])
}

// NewRunID returns a new run id: uuid.uuid4().hex, as create_run makes
// them (32 lower-case hex digits).
func NewRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// RunWriter writes one run of a store.
type RunWriter struct {
	s    *Store
	dir  string // <exp>/<run>
	info RunInfo
}

// CreateRun creates the run described by info in its experiment, as
// file_store.py create_run does: meta.yaml (status RUNNING unless info
// says otherwise, deleted_time null), the metrics, params and artifacts
// directories, and the mlflow.runName tag. An empty RunID gets a new id,
// an empty ArtifactURI the store's, an empty LifecycleStage "active".
func (s *Store) CreateRun(info RunInfo) (*RunWriter, error) {
	if err := ValidateExperimentID(info.ExperimentID); err != nil {
		return nil, err
	}
	exp, err := s.Experiment(info.ExperimentID)
	if err != nil {
		return nil, err
	}
	if info.RunID == "" {
		info.RunID = NewRunID()
	}
	if err := ValidateRunID(info.RunID); err != nil {
		return nil, err
	}
	if info.Status == 0 {
		info.Status = Running
	}
	if info.LifecycleStage == "" {
		info.LifecycleStage = Active
	}
	if info.ArtifactURI == "" {
		info.ArtifactURI = strings.TrimSuffix(exp.ArtifactLocation, "/") + "/" + info.RunID + "/" + ArtifactsDir
	}
	dir := path.Join(info.ExperimentID, info.RunID)
	if err := s.root.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run %s: %w", info.RunID, err)
	}
	w := &RunWriter{s: s, dir: dir, info: info}
	b, err := runYAML(info, true)
	if err != nil {
		return nil, err
	}
	if err := s.writeFile(path.Join(dir, MetaFile), b); err != nil {
		return nil, err
	}
	for _, d := range []string{MetricsDir, ParamsDir, ArtifactsDir} {
		if err := s.root.Mkdir(path.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if info.RunName != "" {
		if err := w.SetTag(TagRunName, info.RunName); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Info returns the run's info as last written.
func (w *RunWriter) Info() RunInfo { return w.info }

// Dir returns the run's directory.
func (w *RunWriter) Dir() string { return filepath.Join(w.s.Dir, filepath.FromSlash(w.dir)) }

// LogParam writes a param. As MLflow, it refuses a value different from
// one already logged ("Changing param values is not allowed"); the same
// value again is fine. Values longer than MaxParamValueLength are
// refused: current MLflow truncates them (MLFLOW_TRUNCATE_LONG_VALUES
// defaults to true in environment_variables.py), older versions refuse
// them, and a writer that must not lose data refuses.
func (w *RunWriter) LogParam(key, value string) error {
	if err := ValidateKey("parameter", key); err != nil {
		return err
	}
	if n := len([]rune(value)); n > MaxParamValueLength {
		return fmt.Errorf("param %q: value has length %d, which exceeds the limit of %d", key, n, MaxParamValueLength)
	}
	name := path.Join(w.dir, ParamsDir, key)
	if old, err := w.s.readValue(name); err == nil {
		if old != value {
			return fmt.Errorf("param %q was already logged with value %q; changing param values is not allowed (new value %q)", key, old, value)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return w.s.writeFile(name, []byte(value))
}

// SetTag writes a tag (set_tag: no trailing newline; a tag may change).
func (w *RunWriter) SetTag(key, value string) error {
	if err := ValidateKey("tag", key); err != nil {
		return err
	}
	if n := len([]rune(value)); n > MaxTagValueLength {
		return fmt.Errorf("tag %q: value has length %d, which exceeds the limit of %d", key, n, MaxTagValueLength)
	}
	return w.s.writeFile(path.Join(w.dir, TagsDir, key), []byte(value))
}

// Metric is one point of a metric's history.
type Metric struct {
	Key   string
	Value float64
	// Timestamp is Unix milliseconds.
	Timestamp int64
	Step      int64
}

// MetricLine is the line file_store.py _log_run_metric appends for a
// point: f"{metric.timestamp} {metric.value} {metric.step}\n", the value
// as Python's str() of a float.
func MetricLine(m Metric) string {
	return fmt.Sprintf("%d %s %d\n", m.Timestamp, pyfmt.Float(m.Value), m.Step)
}

// WriteMetric writes a metric's whole history (one line per point, in
// order), replacing the file atomically. Every point's Key must be key.
func (w *RunWriter) WriteMetric(key string, points []Metric) error {
	f, err := w.CreateMetric(key)
	if err != nil {
		return err
	}
	for _, p := range points {
		if err := f.Add(p); err != nil {
			f.Abort()
			return err
		}
	}
	return f.Commit()
}

// MetricFile writes a metric's whole history a point at a time, for a
// history too long to hold: into a temporary file, which Commit puts in
// place of the metric's file atomically (Abort removes it).
type MetricFile struct {
	key string
	f   *atomicFile
	buf *bufio.Writer
}

// CreateMetric starts writing a metric's history (see MetricFile).
func (w *RunWriter) CreateMetric(key string) (*MetricFile, error) {
	if err := ValidateKey("metric", key); err != nil {
		return nil, err
	}
	f, err := w.s.createAtomic(path.Join(w.dir, MetricsDir, key))
	if err != nil {
		return nil, err
	}
	return &MetricFile{key: key, f: f, buf: bufio.NewWriterSize(f.f, 16<<10)}, nil
}

// Add appends a point, whose Key must be the metric's.
func (m *MetricFile) Add(p Metric) error {
	if p.Key != m.key {
		return fmt.Errorf("metric %q: a point of %q in its history", m.key, p.Key)
	}
	if p.Timestamp < 0 {
		return fmt.Errorf("metric %q: negative timestamp %d", m.key, p.Timestamp)
	}
	if _, err := m.buf.WriteString(MetricLine(p)); err != nil {
		return m.f.wrap(err)
	}
	return nil
}

// Commit puts the history written in place of the metric's file.
func (m *MetricFile) Commit() error {
	if err := m.buf.Flush(); err != nil {
		m.f.abort()
		return m.f.wrap(err)
	}
	return m.f.commit()
}

// Abort removes the history written; the metric's file is left as it
// was. It does nothing after Commit.
func (m *MetricFile) Abort() { m.f.abort() }

// WriteArtifact writes an artifact at its path relative to the run's
// artifact root ("weights/best.pt"), atomically.
func (w *RunWriter) WriteArtifact(p string, r io.Reader) error {
	if err := ValidateArtifactPath(p); err != nil {
		return err
	}
	return w.s.writeFrom(path.Join(w.dir, ArtifactsDir, p), r)
}

// Finish ends the run as update_run_info does: the status and end time,
// meta.yaml rewritten (without deleted_time).
func (w *RunWriter) Finish(status Status, end time.Time) error {
	if _, ok := statusNames[status]; !ok {
		return fmt.Errorf("run %s: unknown status %d", w.info.RunID, status)
	}
	ms := end.UnixMilli()
	w.info.Status, w.info.EndTime = status, &ms
	b, err := runYAML(w.info, false)
	if err != nil {
		return err
	}
	return w.s.writeFile(path.Join(w.dir, MetaFile), b)
}

// writeFile writes name (slash-separated, relative to the store)
// atomically: a temporary file in the same directory, synced, renamed.
func (s *Store) writeFile(name string, data []byte) error {
	return s.writeFrom(name, strings.NewReader(string(data)))
}

func (s *Store) writeFrom(name string, r io.Reader) error {
	f, err := s.createAtomic(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f.f, r); err != nil {
		f.abort()
		return f.wrap(err)
	}
	return f.commit()
}

// atomicFile is a file being written in place of name: a temporary file
// in the same directory, synced and renamed by commit. f is nil once
// committed or aborted.
type atomicFile struct {
	s         *Store
	name, tmp string
	f         *os.File
}

func (s *Store) createAtomic(name string) (*atomicFile, error) {
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return nil, fmt.Errorf("mlflow store: %q leaves the store", name)
	}
	dir := path.Dir(name)
	if err := s.root.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write %s: %w", s.path(name), err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, "."+path.Base(name)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", s.path(name), err)
	}
	return &atomicFile{s: s, name: name, tmp: tmp, f: f}, nil
}

// wrap names the file in a write error.
func (a *atomicFile) wrap(err error) error {
	return fmt.Errorf("write %s: %w", a.s.path(a.name), err)
}

// commit syncs, closes and renames the temporary file over name; on an
// error it removes it.
func (a *atomicFile) commit() error {
	if a.f == nil {
		return a.wrap(errors.New("committed or aborted already"))
	}
	f := a.f
	a.f = nil
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = a.s.root.Rename(a.tmp, a.name)
	}
	if err != nil {
		_ = a.s.root.Remove(a.tmp)
		return a.wrap(err)
	}
	return nil
}

// abort closes and removes the temporary file, unless committed.
func (a *atomicFile) abort() {
	if a.f == nil {
		return
	}
	a.f.Close()
	a.f = nil
	_ = a.s.root.Remove(a.tmp)
}

// path is the OS path of a store-relative name, for messages.
func (s *Store) path(name string) string {
	return filepath.Join(s.Dir, filepath.FromSlash(name))
}

// OpenRun returns a writer for a run the store holds, to log more into it
// or end it.
func (s *Store) OpenRun(expID, runID string) (*RunWriter, error) {
	info, err := s.runInfo(expID, runID)
	if err != nil {
		return nil, err
	}
	return &RunWriter{s: s, dir: path.Join(expID, runID), info: info}, nil
}
