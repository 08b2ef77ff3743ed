package filestore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits bound what the readers accept from a store, which may be hostile.
type Limits struct {
	// MetaBytes is the largest meta.yaml.
	MetaBytes int64
	// ValueBytes is the largest param or tag file.
	ValueBytes int64
	// MetricBytes is the largest metric file.
	MetricBytes int64
	// Entries is the most files (metrics, params, tags, artifacts) read
	// from one run, and the most entries of one directory.
	Entries int
	// Depth is the deepest sub-directory of a key or artifact path.
	Depth int
}

// DefaultLimits are generous for genuine stores: MLflow itself caps a
// param at 6,000 characters and a tag at 5,000 (a character is up to 4
// bytes).
var DefaultLimits = Limits{MetaBytes: 64 << 10, ValueBytes: 1 << 20, MetricBytes: 256 << 20, Entries: 100_000, Depth: 32}

// ErrNotFound is returned for an experiment or run the store lacks.
var ErrNotFound = errors.New("mlflow store: not found")

// Run is one run read from a store.
type Run struct {
	Info   RunInfo
	Params map[string]string
	Tags   map[string]string
	// Metrics holds each metric's history, in file order.
	Metrics map[string][]Metric
}

// Artifact is one artifact file of a run.
type Artifact struct {
	// Path is relative to the run's artifact root, "/"-separated.
	Path string
	Size int64
}

// bad is the one-line error for a malformed store entry.
func (s *Store) bad(name string, format string, args ...any) error {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "; ")), " ")
	return fmt.Errorf("mlflow store: %s: %s", s.path(name), msg)
}

// lstat returns the entry's info, refusing a name that leaves the store
// and any symbolic link on the way.
func (s *Store) lstat(name string) (fs.FileInfo, error) {
	if name != "." && !fs.ValidPath(name) {
		return nil, s.bad(name, "name leaves the store")
	}
	var fi fs.FileInfo
	parts := strings.Split(name, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		var err error
		fi, err = s.root.Lstat(p)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, s.bad(p, "is a symbolic link; a store read for capture must hold none")
		}
		if i < len(parts)-1 && !fi.IsDir() {
			return nil, s.bad(p, "is not a directory")
		}
	}
	return fi, nil
}

// readFile reads a regular file of at most max bytes.
func (s *Store) readFile(name string, max int64) ([]byte, error) {
	fi, err := s.lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, s.bad(name, "is not a regular file")
	}
	if fi.Size() > max {
		return nil, s.bad(name, "is %d bytes, more than the %d a reader accepts", fi.Size(), max)
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	now, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(fi, now) {
		return nil, s.bad(name, "changed while being read")
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, s.bad(name, "%v", err)
	}
	if int64(len(b)) > max {
		return nil, s.bad(name, "grew past %d bytes while being read", max)
	}
	return b, nil
}

// readValue reads a param or tag file: its whole content, UTF-8.
func (s *Store) readValue(name string) (string, error) {
	b, err := s.readFile(name, s.Limits.ValueBytes)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", s.bad(name, "is not UTF-8")
	}
	return string(b), nil
}

// readDir lists a directory's entries, sorted, bounded.
func (s *Store) readDir(name string) ([]fs.DirEntry, error) {
	fi, err := s.lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, s.bad(name, "is not a directory")
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(s.Limits.Entries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, s.bad(name, "%v", err)
	}
	if len(ents) > s.Limits.Entries {
		return nil, s.bad(name, "holds more than %d entries", s.Limits.Entries)
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, nil
}

// walk returns the regular files under dir, as paths relative to it,
// refusing links and special files, bounded in count and depth.
func (s *Store) walk(dir string) ([]string, error) {
	var out []string
	var rec func(rel string, depth int) error
	rec = func(rel string, depth int) error {
		if depth > s.Limits.Depth {
			return s.bad(path.Join(dir, rel), "nests deeper than %d directories", s.Limits.Depth)
		}
		ents, err := s.readDir(path.Join(dir, rel))
		if err != nil {
			return err
		}
		for _, e := range ents {
			p := path.Join(rel, e.Name())
			switch t := e.Type(); {
			case t&fs.ModeSymlink != 0:
				return s.bad(path.Join(dir, p), "is a symbolic link; a store read for capture must hold none")
			case t.IsDir():
				if err := rec(p, depth+1); err != nil {
					return err
				}
			case t.IsRegular():
				if len(out) >= s.Limits.Entries {
					return s.bad(dir, "holds more than %d files", s.Limits.Entries)
				}
				out = append(out, p)
			default:
				return s.bad(path.Join(dir, p), "is not a regular file")
			}
		}
		return nil
	}
	if err := rec(".", 0); err != nil {
		return nil, err
	}
	for i, p := range out {
		out[i] = strings.TrimPrefix(p, "./")
	}
	return out, nil
}

// Experiment reads an experiment's meta.yaml.
func (s *Store) Experiment(id string) (Experiment, error) {
	if err := ValidateExperimentID(id); err != nil {
		return Experiment{}, err
	}
	name := path.Join(id, MetaFile)
	b, err := s.readFile(name, s.Limits.MetaBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return Experiment{}, fmt.Errorf("experiment %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Experiment{}, err
	}
	e, err := decodeExperiment(b)
	if err != nil {
		return Experiment{}, s.bad(name, "malformed experiment meta: %v", err)
	}
	if e.ID != id {
		return Experiment{}, s.bad(name, "records experiment id %q in the directory of %q", e.ID, id)
	}
	return e, nil
}

// Experiments reads the active experiments (the store's directories but
// .trash and models, as _get_active_experiments lists them), by id.
// A directory without meta.yaml is skipped, as MLflow skips it; a
// malformed meta.yaml is an error naming the file.
func (s *Store) Experiments() ([]Experiment, error) {
	ents, err := s.readDir(".")
	if err != nil {
		return nil, err
	}
	var out []Experiment
	for _, d := range ents {
		if !d.IsDir() || d.Name() == TrashDir || d.Name() == modelsDir {
			continue
		}
		if ValidateExperimentID(d.Name()) != nil {
			continue
		}
		e, err := s.Experiment(d.Name())
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// reserved are the experiment folders that are not runs
// (FileStore.RESERVED_EXPERIMENT_FOLDERS).
var reserved = []string{TagsDir, "datasets", "traces"}

// Runs reads the infos of an experiment's runs, by run id. A directory
// without meta.yaml is skipped (MLflow logs and skips it); a malformed
// meta.yaml is an error naming the file.
func (s *Store) Runs(expID string) ([]RunInfo, error) {
	if _, err := s.Experiment(expID); err != nil {
		return nil, err
	}
	ents, err := s.readDir(expID)
	if err != nil {
		return nil, err
	}
	var out []RunInfo
	for _, d := range ents {
		if !d.IsDir() || slices.Contains(reserved, d.Name()) || ValidateRunID(d.Name()) != nil {
			continue
		}
		info, err := s.runInfo(expID, d.Name())
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Store) runInfo(expID, runID string) (RunInfo, error) {
	if err := ValidateExperimentID(expID); err != nil {
		return RunInfo{}, err
	}
	if err := ValidateRunID(runID); err != nil {
		return RunInfo{}, err
	}
	name := path.Join(expID, runID, MetaFile)
	b, err := s.readFile(name, s.Limits.MetaBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return RunInfo{}, fmt.Errorf("run %s of experiment %s: %w", runID, expID, ErrNotFound)
	}
	if err != nil {
		return RunInfo{}, err
	}
	info, err := decodeRun(b)
	if err != nil {
		return RunInfo{}, s.bad(name, "malformed run meta: %v", err)
	}
	if info.ExperimentID != expID {
		return RunInfo{}, s.bad(name, "records experiment id %q in experiment %q", info.ExperimentID, expID)
	}
	if info.RunID != runID {
		return RunInfo{}, s.bad(name, "records run id %q in the directory of %q", info.RunID, runID)
	}
	return info, nil
}

// ReadRun reads a run: its info, params, tags and metric histories.
func (s *Store) ReadRun(expID, runID string) (*Run, error) {
	info, err := s.runInfo(expID, runID)
	if err != nil {
		return nil, err
	}
	r := &Run{Info: info, Params: map[string]string{}, Tags: map[string]string{}, Metrics: map[string][]Metric{}}
	dir := path.Join(expID, runID)
	for _, part := range []struct {
		sub, what string
		into      map[string]string
	}{{ParamsDir, "parameter", r.Params}, {TagsDir, "tag", r.Tags}, {MetricsDir, "metric", nil}} {
		sub := path.Join(dir, part.sub)
		keys, err := s.walk(sub)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a run may lack tags/ (or anything, when written by hand)
		}
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			name := path.Join(sub, k)
			if err := ValidateKey(part.what, k); err != nil {
				return nil, s.bad(name, "%v", err)
			}
			if part.into != nil {
				v, err := s.readValue(name)
				if err != nil {
					return nil, err
				}
				part.into[k] = v
				continue
			}
			pts, err := s.readMetric(name, k)
			if err != nil {
				return nil, err
			}
			r.Metrics[k] = pts
		}
	}
	return r, nil
}

// readMetric parses a metric file as _get_metric_from_line does: each
// line stripped and split on " " into 2 or 3 fields, int(timestamp),
// float(value), int(step) (0 when absent). A file without points is
// malformed ("No data found").
func (s *Store) readMetric(name, key string) ([]Metric, error) {
	b, err := s.readFile(name, s.Limits.MetricBytes)
	if err != nil {
		return nil, err
	}
	var out []Metric
	for i, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		m, err := ParseMetricLine(key, line)
		if err != nil {
			return nil, s.bad(name, "line %d: %v", i+1, err)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, s.bad(name, "metric %q is malformed: no data found", key)
	}
	return out, nil
}

// ParseMetricLine parses one line of a metric file.
func ParseMetricLine(key, line string) (Metric, error) {
	parts := strings.Split(strings.TrimSpace(line), " ")
	if len(parts) != 2 && len(parts) != 3 {
		return Metric{}, fmt.Errorf("%d fields, want 2 or 3 (\"<timestamp ms> <value> <step>\")", len(parts))
	}
	ts, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return Metric{}, fmt.Errorf("timestamp %q is not an integer", parts[0])
	}
	v, err := parsePyFloat(parts[1])
	if err != nil {
		return Metric{}, fmt.Errorf("value %q is not a number", parts[1])
	}
	m := Metric{Key: key, Value: v, Timestamp: ts}
	if len(parts) == 3 {
		if m.Step, err = strconv.ParseInt(parts[2], 10, 64); err != nil {
			return Metric{}, fmt.Errorf("step %q is not an integer", parts[2])
		}
	}
	return m, nil
}

// parsePyFloat accepts what Python's float() accepts of the texts str()
// writes: decimal and scientific numbers, nan, inf, -inf (any case).
func parsePyFloat(t string) (float64, error) {
	if strings.ContainsAny(t, "xXpP_") {
		return 0, errors.New("not a decimal number")
	}
	return strconv.ParseFloat(t, 64)
}

// Artifacts lists a run's artifact files under its artifacts directory
// (the store's own artifact root), sorted by path.
func (s *Store) Artifacts(expID, runID string) ([]Artifact, error) {
	if _, err := s.runInfo(expID, runID); err != nil {
		return nil, err
	}
	dir := path.Join(expID, runID, ArtifactsDir)
	files, err := s.walk(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Artifact, 0, len(files))
	for _, f := range files {
		fi, err := s.lstat(path.Join(dir, f))
		if err != nil {
			return nil, err
		}
		out = append(out, Artifact{Path: f, Size: fi.Size()})
	}
	return out, nil
}

// OpenArtifact opens an artifact file of a run for reading; it refuses
// links and paths that leave the run's artifacts directory.
func (s *Store) OpenArtifact(expID, runID, p string) (io.ReadCloser, error) {
	if err := ValidateExperimentID(expID); err != nil {
		return nil, err
	}
	if err := ValidateRunID(runID); err != nil {
		return nil, err
	}
	if err := ValidateArtifactPath(p); err != nil {
		return nil, err
	}
	name := path.Join(expID, runID, ArtifactsDir, p)
	fi, err := s.lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, s.bad(name, "is not a regular file")
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, err
	}
	if now, err := f.Stat(); err != nil || !os.SameFile(fi, now) {
		f.Close()
		return nil, s.bad(name, "changed while being opened")
	}
	return f, nil
}

// RunTag reads one tag of a run; ok is false when the run lacks it.
func (s *Store) RunTag(expID, runID, key string) (value string, ok bool, err error) {
	if err := ValidateExperimentID(expID); err != nil {
		return "", false, err
	}
	if err := ValidateRunID(runID); err != nil {
		return "", false, err
	}
	if err := ValidateKey("tag", key); err != nil {
		return "", false, err
	}
	v, err := s.readValue(path.Join(expID, runID, TagsDir, key))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}
