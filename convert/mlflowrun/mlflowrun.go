// Package mlflowrun captures a run of an MLflow file store (mlruns/,
// which Ultralytics' MLflow callback writes to runs/mlflow when no
// tracking URI is set): a session reader registered with
// convert.RegisterReader. Importing it for its side effect (one line in
// cmd/yoloarchive) is what makes capture read MLflow runs.
package mlflowrun

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
	"github.com/yoloarchive/yoloarchive/sync/pyfmt"
)

func init() {
	convert.RegisterReader(convert.Reader{
		Kind:       schemas.SourceMLflowRun,
		Name:       "a run of an MLflow file store",
		IsRun:      isMLflowRun,
		Store:      isMLflowStore,
		StoreName:  "an MLflow file store",
		LoggedFrom: mlflowRunDir,
		Read:       readMLflow,
	})
}

// mlflowTagRunID is the tag a yoloarchive replay gives an MLflow run
// (schemas.TagRunID, as sync/mlflow sets it): the archive's run id.
const mlflowTagRunID = schemas.TagRunID

// isMLflowRun reports whether dir is a run of an MLflow file store:
// <store>/<experiment id>/<run id>/ with its meta.yaml, beside the
// experiment's meta.yaml.
func isMLflowRun(dir string) bool {
	if filestore.ValidateRunID(filepath.Base(dir)) != nil || filestore.ValidateExperimentID(filepath.Base(filepath.Dir(dir))) != nil {
		return false
	}
	for _, p := range []string{filepath.Join(dir, filestore.MetaFile), filepath.Join(filepath.Dir(dir), filestore.MetaFile)} {
		if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// isMLflowStore reports whether dir looks like an MLflow file store's
// root (the Default experiment's meta.yaml, or .trash).
func isMLflowStore(dir string) bool {
	if st, err := os.Lstat(filepath.Join(dir, filestore.DefaultExperimentID, filestore.MetaFile)); err == nil && st.Mode().IsRegular() {
		return true
	}
	st, err := os.Lstat(filepath.Join(dir, filestore.TrashDir))
	return err == nil && st.IsDir()
}

// mlflowUnsanitize puts back the parentheses Ultralytics' MLflow callback
// removes from metric names (sanitize_dict: "metrics/mAP50-95(B)" is
// logged as "metrics/mAP50-95B"): a metrics/ name ending in the B, M or P
// of a box, mask or pose metric. Removing them again gives the logged
// name, so a replay logs what was captured.
func mlflowUnsanitize(name string) string {
	if !strings.HasPrefix(name, "metrics/") || len(name) < len("metrics/")+2 || strings.HasSuffix(name, ")") {
		return name
	}
	switch last := name[len(name)-1]; last {
	case 'B', 'M', 'P':
		if prev := name[len(name)-2]; prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9' {
			return name[:len(name)-1] + "(" + string(last) + ")"
		}
	}
	return name
}

// mlflowParam types a param MLflow stored as Python's str() of the value
// (None, True, 3, 0.01, [0], ['a', 'b']); a value whose typed form would
// not print back the same is kept as a string, so the value is exact.
func mlflowParam(key string, pos int, value string) schemas.ParamRow {
	typ := "str"
	switch {
	case value == "None":
		typ = "NoneType"
	case value == "True" || value == "False":
		typ = "bool"
	case len(value) >= 2 && value[0] == '[' && value[len(value)-1] == ']':
		typ = "list"
	default:
		if _, err := strconv.ParseInt(value, 10, 64); err == nil {
			typ = "int"
		} else if _, err := strconv.ParseFloat(value, 64); err == nil {
			typ = "float"
		}
	}
	row := convert.PyParam("args", key, pos, value, typ)
	if typ != "str" && pyfmt.ParamStr(row) != value {
		s := value
		row = schemas.ParamRow{Section: "args", Key: key, Position: int32(pos), Text: value, Type: schemas.TypeString, String: &s}
	}
	return row
}

// readMLflow reads a run of an MLflow file store (s.Root() is the run's
// folder) with sync/mlflow/filestore, which refuses links and bounds
// every file: meta.yaml, params (the training arguments, as str()),
// tags, every metric's history (step = the 0-based epoch, the callback's
// names with their parentheses put back), the repeat of metrics/* at the
// last step of a finished run as its final values, and the artifacts.
func readMLflow(ctx context.Context, s *convert.Session) error {
	r := s.Run()
	root := s.Root()
	storeDir := filepath.Dir(filepath.Dir(root))
	expID, runID := filepath.Base(filepath.Dir(root)), filepath.Base(root)
	store, err := filestore.Open(storeDir)
	if err != nil {
		return err
	}
	defer store.Close()
	exp, err := store.Experiment(expID)
	if err != nil {
		return err
	}
	run, err := store.ReadRun(expID, runID)
	if err != nil {
		return err
	}
	if err := s.AddSessionFile(ctx, filestore.MetaFile); err != nil {
		return err
	}
	info := run.Info
	r.Info.SessionID = info.RunID
	r.Info.Project = exp.Name
	r.Info.Name = info.RunName
	if v := run.Tags[filestore.TagRunName]; v != "" {
		r.Info.Name = v
	}
	r.Info.StartedAt = convert.MillisTime(info.StartTime)
	if info.EndTime != nil {
		r.Info.EndedAt = convert.MillisTime(*info.EndTime)
	}
	r.Info.TimeSource = "session"
	r.Info.Mode = "train"
	keys := make([]string, 0, len(run.Params))
	for k := range run.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := make([]schemas.ParamRow, 0, len(keys))
	for i, k := range keys {
		row := mlflowParam(k, i, run.Params[k])
		args = append(args, row)
		r.Params = append(r.Params, row)
	}
	tagKeys := make([]string, 0, len(run.Tags))
	for k := range run.Tags {
		tagKeys = append(tagKeys, k)
	}
	sort.Strings(tagKeys)
	for i, k := range tagKeys {
		v := run.Tags[k]
		r.Params = append(r.Params, schemas.ParamRow{Section: "mlflow:tags", Key: k, Position: int32(i), Text: v, Type: schemas.TypeString, String: &v})
	}
	metricKeys := make([]string, 0, len(run.Metrics))
	for k := range run.Metrics {
		metricKeys = append(metricKeys, k)
	}
	sort.Strings(metricKeys)
	epochs := map[int64]bool{}
	var last int64 = -1
	for _, k := range metricKeys {
		for i, m := range run.Metrics[k] {
			step := m.Step
			r.Scalars = append(r.Scalars, schemas.ScalarRow{Metric: mlflowUnsanitize(k), Step: &step, Epoch: step + 1, Value: m.Value,
				WallTime: convert.MillisTime(m.Timestamp), Origin: path.Join(filestore.MetricsDir, k), Line: int64(i + 1)})
			if strings.HasPrefix(k, "train/") {
				epochs[step] = true
			}
			last = max(last, step)
		}
	}
	// Points in logging order: by step, then time, then name.
	sort.SliceStable(r.Scalars, func(i, j int) bool {
		a, b := r.Scalars[i], r.Scalars[j]
		if a.Epoch != b.Epoch {
			return a.Epoch < b.Epoch
		}
		return a.WallTime != nil && b.WallTime != nil && a.WallTime.Before(*b.WallTime)
	})
	r.Info.EpochsCompleted = int64(len(epochs))
	s.DescribeArgs(args)
	r.Info.Project = exp.Name
	switch info.Status {
	case filestore.Finished:
		r.Info.Status = schemas.StatusFinished
	case filestore.Killed, filestore.Failed:
		r.Info.Status = schemas.StatusInterrupted
	case filestore.Running:
		r.Info.Status = schemas.StatusRunning
	default:
		r.Info.Status = schemas.StatusUnknown
	}
	if r.Info.Status == schemas.StatusFinished && last >= 0 {
		// The callback logs the final validation's metrics/* again at
		// the last step: the later point is the run's final value.
		seen := map[string]bool{}
		for _, sc := range r.Scalars {
			if sc.Epoch != last+1 || !strings.HasPrefix(sc.Metric, "metrics/") {
				continue
			}
			if seen[sc.Metric] {
				e := sc.Epoch
				r.Summary = append(r.Summary, schemas.SummaryRow{Key: sc.Metric, Value: sc.Value, Epoch: &e, Exact: true,
					Origin: "mlflow final validation (" + sc.Origin + ")", WallTime: sc.WallTime})
			}
			seen[sc.Metric] = true
		}
	}
	arts, err := store.Artifacts(expID, runID)
	if err != nil {
		return err
	}
	for _, a := range arts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.AddArtifact(ctx, path.Join(filestore.ArtifactsDir, a.Path), a.Path); err != nil {
			return err
		}
	}
	if !convert.HasAssetRole(r.Assets, schemas.RoleWeightsBest) {
		s.Gap(schemas.GapModel, "the MLflow run holds no weights/best.pt artifact", "capture the run directory, which has weights/best.pt")
	}
	s.Finish(run.Tags[mlflowTagRunID], exp.ID+"/"+info.RunID)
	return nil
}

// mlflowRunDir finds the run directory an MLflow run was logged from:
// its save_dir param, absolute, or relative to the folder training ran
// in, which holds the store (Ultralytics writes runs/mlflow beside
// runs/detect/train); "" when none is an Ultralytics training run.
func mlflowRunDir(src string) string {
	p := filepath.Join(src, filestore.ParamsDir, "save_dir")
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() || st.Size() > 4096 {
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	saveDir := filepath.FromSlash(string(b))
	store := filepath.Dir(filepath.Dir(src))
	var candidates []string
	if filepath.IsAbs(saveDir) {
		candidates = append(candidates, saveDir)
	} else {
		// runs/mlflow and runs/detect/train: the store's grandparent is
		// the folder training ran in.
		candidates = append(candidates, filepath.Join(filepath.Dir(filepath.Dir(store)), saveDir))
		if _, rest, ok := strings.Cut(filepath.ToSlash(saveDir), "/"); ok {
			candidates = append(candidates, filepath.Join(filepath.Dir(store), filepath.FromSlash(rest)))
		}
	}
	for _, c := range candidates {
		if k, err := convert.Detect(c); err == nil && k == schemas.SourceUltralyticsTrain {
			return c
		}
	}
	return ""
}
