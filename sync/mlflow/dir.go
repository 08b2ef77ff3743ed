package mlflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// Dir writes archives into an MLflow file store (mlruns/), which `mlflow
// ui --backend-store-uri DIR` and `mlflow server` show as it is: the
// callback's default when no tracking URI is set, with no server.
//
// It is idempotent: an archive's run gets an id derived from its run id,
// so a second sync (or one after a crash) rewrites the same run, whose
// files are each replaced whole and atomically; never a second run.
type Dir struct {
	dir, abs string
	opts     Options
}

// NewDir returns a Dir writing into the store at dir (made when missing).
func NewDir(dir string, opts Options) *Dir {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return &Dir{dir: dir, abs: abs, opts: opts}
}

// Destination is "mlflow-dir:" and the store's absolute path.
func (d *Dir) Destination() string { return "mlflow-dir:" + d.abs }

// Tracker is "mlflow".
func (d *Dir) Tracker() string { return "mlflow" }

// Plan counts what Sync would write.
func (d *Dir) Plan(ctx context.Context, run *ysync.Run) (*ysync.Plan, error) {
	p, err := BuildPlan(ctx, run, d.opts)
	if err != nil {
		return nil, err
	}
	return p.Counts(), nil
}

// Check checks that the store's directory can be written.
func (d *Dir) Check(ctx context.Context) ([]string, *ysync.Projects, error) {
	if err := ysync.CheckWritable(d.abs); err != nil {
		return nil, nil, err
	}
	return []string{d.dir + " is writable"}, nil, nil
}

// DirRunID is the MLflow run id Dir gives an archived run: 32 hex digits
// of a digest of its run id, so that every write of the run lands in the
// same run directory.
func DirRunID(runID string) string {
	h := sha256.Sum256([]byte("yoloarchive-mlflow:" + runID))
	return hex.EncodeToString(h[:16])
}

// Write writes run into the store: the experiment (found by name or
// made), the run (found by its id or its yoloarchive.run_id tag, or
// made), its params, tags, every metric's whole history, its artifacts,
// and last its status and end time.
func (d *Dir) Write(ctx context.Context, run *ysync.Run, st *ysync.State, task *ysync.Task, res *ysync.Result) error {
	p, err := BuildPlan(ctx, run, d.opts)
	if err != nil {
		return err
	}
	store, err := filestore.Create(d.abs, p.Start)
	if err != nil {
		return fmt.Errorf("mlflow-dir: %v (choose another -o, or fix its permissions)", err)
	}
	defer store.Close()
	exp, err := d.experiment(store, p)
	if err != nil {
		return err
	}
	w, err := d.findOrCreate(store, exp, p, run.RunID(), st.Replace)
	if err != nil {
		return err
	}
	id := w.Info().RunID
	task.Stage("write", int64(len(p.Params)+p.Scalars+len(p.Artifacts)))
	for _, kv := range p.Params {
		if err := w.LogParam(kv.Key, kv.Value); err != nil {
			return fmt.Errorf("mlflow-dir: run %s: %v (sync with --force to write a new run)", w.Dir(), err)
		}
	}
	task.Add(int64(len(p.Params)))
	for _, t := range p.Tags {
		if err := w.SetTag(t.Key, t.Value); err != nil {
			return fmt.Errorf("mlflow-dir: run %s: %v", w.Dir(), err)
		}
	}
	if err := d.writeMetrics(ctx, w, p, task); err != nil {
		return err
	}
	if len(p.Artifacts) > 0 {
		var ds []string
		for _, a := range p.Artifacts {
			ds = append(ds, a.Blob)
		}
		blobs, err := run.Extract(ctx, ds)
		if err != nil {
			return err
		}
		defer blobs.Close()
		for _, a := range p.Artifacts {
			f, err := blobs.Open(a.Blob)
			if err != nil {
				return err
			}
			err = w.WriteArtifact(a.Path, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("mlflow-dir: run %s: %v (check free space)", w.Dir(), err)
			}
			task.Add(1)
		}
	}
	if !p.End.IsZero() {
		if err := w.Finish(p.Status, p.End); err != nil {
			return fmt.Errorf("mlflow-dir: run %s: %v", w.Dir(), err)
		}
	}
	res.Status, res.RemoteID = ysync.StatusWritten, id
	res.Output = filepath.Join(d.dir, exp.ID, id)
	return nil
}

// metricFiles is how many metric files writeMetrics writes at once.
const metricFiles = 64

// writeMetrics writes each metric's whole history, streamed from the
// plan's points into the metric files: the files of up to metricFiles
// metrics (in first-logged order) in each pass over the points, each put
// in place once whole.
func (d *Dir) writeMetrics(ctx context.Context, w *filestore.RunWriter, p *Plan, task *ysync.Task) error {
	for keys := p.keys; len(keys) > 0; {
		group := keys[:min(metricFiles, len(keys))]
		keys = keys[len(group):]
		files := make(map[string]*filestore.MetricFile, len(group))
		abort := func() {
			for _, f := range files {
				f.Abort()
			}
		}
		for _, k := range group {
			f, err := w.CreateMetric(k.key)
			if err != nil {
				abort()
				return fmt.Errorf("mlflow-dir: run %s: %v", w.Dir(), err)
			}
			files[k.key] = f
		}
		err := p.Points(ctx, func(ms []filestore.Metric) error {
			n := int64(0)
			for _, m := range ms {
				if f := files[m.Key]; f != nil {
					if err := f.Add(m); err != nil {
						return fmt.Errorf("mlflow-dir: run %s: %v", w.Dir(), err)
					}
					n++
				}
			}
			task.Add(n)
			return nil
		})
		if err != nil {
			abort()
			return err
		}
		for _, k := range group {
			if err := files[k.key].Commit(); err != nil {
				abort()
				return fmt.Errorf("mlflow-dir: run %s: %v", w.Dir(), err)
			}
		}
	}
	return nil
}

// experiment finds the plan's active experiment by name, or makes it.
func (d *Dir) experiment(store *filestore.Store, p *Plan) (filestore.Experiment, error) {
	exps, err := store.Experiments()
	if err != nil {
		return filestore.Experiment{}, err
	}
	for _, e := range exps {
		if e.Name == p.Experiment {
			return e, nil
		}
	}
	e, err := store.CreateExperiment(p.Experiment, p.Start)
	if err != nil {
		return e, fmt.Errorf("mlflow-dir: %s: %v", d.abs, err)
	}
	return e, nil
}

// findOrCreate opens the archive's run: the one with its derived id, or
// one tagged with its run id (written by hand or another version), else
// a new one. force retags that run "replaced:<run id>" and makes a new
// one with a fresh id.
func (d *Dir) findOrCreate(store *filestore.Store, exp filestore.Experiment, p *Plan, runID string, force bool) (*filestore.RunWriter, error) {
	runs, err := store.Runs(exp.ID)
	if err != nil {
		return nil, err
	}
	id := DirRunID(runID)
	var byTag, byID string
	taken := false
	for _, r := range runs {
		v, ok, err := store.RunTag(exp.ID, r.RunID, TagRunID)
		if err != nil {
			return nil, err
		}
		if ok && v == runID && byTag == "" {
			byTag = r.RunID
		}
		if r.RunID == id {
			taken = true
			if !ok || v == runID {
				byID = r.RunID
			}
		}
	}
	found := byTag
	if found == "" {
		found = byID
	}
	if found != "" {
		w, err := store.OpenRun(exp.ID, found)
		if err != nil || !force {
			return w, err
		}
		if err := w.SetTag(TagRunID, "replaced:"+runID); err != nil {
			return nil, err
		}
	}
	if taken {
		id = filestore.NewRunID()
	}
	return store.CreateRun(filestore.RunInfo{ExperimentID: exp.ID, RunID: id, RunName: p.RunName, StartTime: p.Start.UnixMilli(), Status: filestore.Running})
}
