package mlflow

import (
	"context"
	"errors"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/pyfmt"
)

// TagRunID is the tag that identifies an archived run on the MLflow side,
// for dedupe (runs/search with tags.`yoloarchive.run_id` = '<id>').
const TagRunID = schemas.TagRunID

// Options are what the callback reads from its environment.
type Options struct {
	// Experiment is MLFLOW_EXPERIMENT_NAME; empty: args.project, else
	// "/Shared/Ultralytics" ("/Shared/YOLOv8" before 8.2).
	Experiment string
	// RunName is MLFLOW_RUN; empty: args.name (the directory name when
	// args.yaml has none).
	RunName string
	// User and SourceName become the mlflow.user and mlflow.source.name
	// tags that MLflow's client sets from the training machine (the user
	// and the script); the archive knows neither, so they are left out
	// unless given.
	User, SourceName string
	// Version overrides the Ultralytics version whose callback is
	// followed (see sync.CallbackVersion).
	Version string
}

// Param is one logged param.
type Param struct {
	Key, Value string
}

// Tag is one run tag.
type Tag struct {
	Key, Value string
}

// Artifact is one file the callback logs at train end.
type Artifact struct {
	// Path is the artifact path under the run's artifact root
	// ("weights/best.pt", "results.png").
	Path string
	// Blob is the file's digest in the archive; Size its size.
	Blob string
	Size int64
}

// Plan is what Ultralytics' MLflow callback would have logged for a run.
type Plan struct {
	Experiment string
	RunName    string
	// Start and End are the run's start_time and end_time; End is zero
	// while the run is still running.
	Start, End time.Time
	// Status is the run's final status: FINISHED when training ended (the
	// callback's end_run), KILLED for an interrupted run (its train end
	// never ran: MLflow's exit hook would have marked it FINISHED, a
	// killed process would have left it RUNNING; neither is true), RUNNING
	// for a run that is still training.
	Status filestore.Status
	Params []Param
	Tags   []Tag
	// Scalars is how many metric points the callback logs: [Plan.Points]
	// generates them from the archive's scalars table, in logging order,
	// without holding them.
	Scalars   int
	Artifacts []Artifact

	gen *pointGen
	// keys sums the points of each metric, in first-logged order;
	// batches is how many log-batches the points make (see batches).
	keys    []metricSum
	batches int
}

// ErrNotUltralytics is returned for a run the Ultralytics 8 callback
// cannot have logged (a YOLOv5 run).
var ErrNotUltralytics = errors.New("mlflow: the Ultralytics MLflow callback logs Ultralytics 8 runs; this run was written by YOLOv5")

// BuildPlan returns what the callback would have logged for run:
//   - on_pretrain_routine_end: log_params(dict(trainer.args)), each value
//     as str() of the Python value;
//   - on_train_epoch_end: lr/pg0..2 and the train/* losses at step =
//     trainer.epoch (0-based);
//   - on_fit_epoch_end: metrics/* and val/* at the same step, and once
//     more after the last epoch the final validation of best.pt (metrics/*
//     only: a second point at the last step);
//   - on_train_end: the weights/ directory, then every top-level file of
//     the run directory with suffix .png .jpg .csv .pt .yaml, then
//     end_run().
func BuildPlan(ctx context.Context, run *ysync.Run, o Options) (*Plan, error) {
	info := run.Info
	if info.Producer == schemas.ProducerYOLOv5 {
		return nil, ErrNotUltralytics
	}
	v := ysync.CallbackVersion(info, o.Version)
	p := &Plan{Experiment: o.Experiment, RunName: o.RunName, Status: filestore.Finished}
	if p.Experiment == "" {
		p.Experiment = info.Project
	}
	if p.Experiment == "" {
		p.Experiment = "/Shared/Ultralytics"
		if ysync.VersionLess(v, "8.2.0") {
			p.Experiment = "/Shared/YOLOv8"
		}
	}
	if p.RunName == "" {
		p.RunName = run.Name()
	}
	clk := ysync.NewClock(run)
	p.Start = clk.Start

	for _, r := range run.Params {
		if r.Section == "args" {
			p.Params = append(p.Params, Param{r.Key, pyfmt.ParamStr(r)})
		}
	}
	// A run captured from an MLflow store recorded the training machine's
	// user and script (params of section "mlflow:tags").
	for _, r := range run.Params {
		if r.Section != "mlflow:tags" {
			continue
		}
		switch {
		case r.Key == filestore.TagUser && o.User == "":
			o.User = r.Text
		case r.Key == filestore.TagSourceName && o.SourceName == "":
			o.SourceName = r.Text
		}
	}
	p.Tags = []Tag{{filestore.TagRunName, p.RunName}, {filestore.TagSourceType, "LOCAL"}}
	if o.SourceName != "" {
		p.Tags = append(p.Tags, Tag{filestore.TagSourceName, o.SourceName})
	}
	if o.User != "" {
		p.Tags = append(p.Tags, Tag{filestore.TagUser, o.User})
	}
	p.Tags = append(p.Tags, Tag{TagRunID, run.RunID()})

	g := newPointGen(run, clk)
	p.gen = g
	switch info.Status {
	case schemas.StatusRunning:
		p.Status = filestore.Running
	case schemas.StatusInterrupted:
		p.Status = filestore.Killed
		p.End = clk.End()
	default:
		p.End = clk.End()
		// After the last epoch with points (none when no epoch has).
		for _, s := range run.Summary {
			if strings.HasPrefix(s.Key, "metrics/") {
				at := p.End
				if s.WallTime != nil {
					at = *s.WallTime // logged by a tracker: when
				}
				g.final = append(g.final, finalPoint{g.name(s.Key), s.Value, at.UnixMilli()})
			}
		}
		p.Artifacts = artifacts(run)
	}
	// One pass counts the points, sums each metric's and numbers the
	// log-batches: what the steps and the read-back need, not the points.
	if err := p.summarise(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Sanitize is the callback's sanitize_dict on a name: "(" and ")"
// removed ("metrics/mAP50-95(B)" → "metrics/mAP50-95B").
func Sanitize(name string) string {
	return strings.NewReplacer("(", "", ")", "").Replace(name)
}

// rootSuffixes are the suffixes of the top-level files on_train_end logs.
var rootSuffixes = map[string]bool{".png": true, ".jpg": true, ".csv": true, ".pt": true, ".yaml": true}

// runDirAsset reports whether an asset role is a file of the run
// directory (not of a tracker session or the dataset).
func runDirAsset(role string) bool {
	switch role {
	case schemas.RoleSessionFile, schemas.RoleTrackerAsset, schemas.RoleDatasetYAML, schemas.RoleConfusionMatrixData:
		return false
	}
	return true
}

// artifacts are the files on_train_end logs that the archive holds:
// log_artifact(weights/) logs the directory's files under "weights/",
// then each top-level file with a logged suffix, in name order (the
// live order is the directory's, which is not recorded).
func artifacts(run *ysync.Run) []Artifact {
	var weights, root []Artifact
	seen := map[string]bool{}
	consider := func(name, blob string, size int64) {
		if blob == "" || seen[name] {
			return
		}
		switch {
		case strings.HasPrefix(name, "weights/") && path.Clean(name) == name:
			weights = append(weights, Artifact{name, blob, size})
		case !strings.Contains(name, "/") && rootSuffixes[path.Ext(name)]:
			root = append(root, Artifact{name, blob, size})
		default:
			return
		}
		seen[name] = true
	}
	for _, a := range run.Assets {
		if runDirAsset(a.Role) {
			consider(a.FileName, a.Blob, a.Size)
		}
	}
	for _, im := range run.Images {
		if im.Kind == "" && im.Role != schemas.RoleDatasetImage && im.Role != schemas.RoleTrackerImage {
			consider(im.FileName, im.Blob, im.Size)
		}
	}
	byPath := func(l []Artifact) {
		sort.Slice(l, func(i, j int) bool { return l[i].Path < l[j].Path })
	}
	byPath(weights)
	byPath(root)
	return append(weights, root...)
}
