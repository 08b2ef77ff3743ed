// Package clearmlsession captures a ClearML offline session (the folder
// offline-<id> the SDK writes with Task.set_offline, or its zip;
// clearml-api.md §5): a session reader registered with
// convert.RegisterReader. Importing it for its side effect (one line in
// cmd/yoloarchive) is what makes capture read ClearML sessions.
package clearmlsession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
)

func init() {
	convert.RegisterReader(convert.Reader{
		Kind:     schemas.SourceClearMLOffline,
		Name:     "a ClearML offline session",
		Order:    1,
		IsRun:    isClearML,
		Root:     clearmlRoot,
		Read:     read,
		Zip:      func(names map[string]bool) bool { return names[clearmloffline.FileTask] },
		ZipFiles: "task.json (ClearML offline session)",
		ZipRefused: func(names map[string]bool) string {
			if names[clearmloffline.FileMetrics] {
				return "a ClearML session zip without task.json (the session was not closed; its task cannot be rebuilt)"
			}
			return ""
		},
		FS: true,
	})
}

// isClearML reports whether dir is a ClearML offline session folder (it
// holds task.json and is no run directory), or the SDK's offline folder
// holding one.
func isClearML(dir string) bool {
	// A file that is there but a link or a FIFO still says what the run
	// is (its capture then records the gap).
	has := func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return err == nil
	}
	return !has("args.yaml") && (has(clearmloffline.FileTask) || clearmlSubfolder(dir) != "")
}

// fileExists reports whether p is an existing regular file, itself not
// a link.
func fileExists(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode().IsRegular()
}

// clearmlRoot is the session folder of src: src itself when it holds
// task.json, else its only offline-* subfolder that does (the SDK's
// offline directory after a single run).
func clearmlRoot(src string) string {
	if fileExists(filepath.Join(src, clearmloffline.FileTask)) {
		return src
	}
	if sub := clearmlSubfolder(src); sub != "" {
		return sub
	}
	return src
}

// clearmlSubfolder returns the one offline-* folder of dir holding a
// task.json, or "".
func clearmlSubfolder(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	found := ""
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), clearmloffline.FolderPrefix) && fileExists(filepath.Join(dir, e.Name(), clearmloffline.FileTask)) {
			if found != "" {
				return "" // several sessions: capture each folder
			}
			found = filepath.Join(dir, e.Name())
		}
	}
	return found
}

// clearmlTask is task.json as the capture reads it: the shared type, with
// the artifacts kept as the raw records they are stored as.
type clearmlTask struct {
	clearmloffline.Task
	Execution struct{ Artifacts []json.RawMessage } `json:"execution"`
}

// read reads a ClearML offline session folder (clearml-api.md §5).
func read(ctx context.Context, s *convert.Session) error {
	r := s.Run()
	data, err := s.ReadFile(clearmloffline.FileTask)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: task.json is missing: not a ClearML offline session, or one whose task was never written (capture the session folder offline-<id> or its zip)", r.Source)
	}
	if err != nil {
		return err
	}
	var task clearmlTask
	if err := json.Unmarshal(data, &task); err != nil {
		return fmt.Errorf("%s: task.json: %v (the session is damaged; take the zip the SDK wrote on Task.close())", r.Source, err)
	}
	if task.ID == "" {
		return fmt.Errorf("%s: task.json has no id: not a ClearML offline session", r.Source)
	}
	if err := s.AddAsset(ctx, clearmloffline.FileTask, schemas.RoleSessionFile, ""); err != nil {
		return err
	}
	r.Info.SessionID = task.ID
	r.Info.Name, r.Info.Project = task.Name, task.ProjectName
	r.Info.Tags = task.Tags
	r.Info.TimeSource = "session"
	r.Info.Mode = "train"

	// Hyperparameters: General is the callback's vars(trainer.args);
	// every other section is kept under "clearml:<section>".
	sections := make([]string, 0, len(task.Hyperparams))
	for sec := range task.Hyperparams {
		sections = append(sections, sec)
	}
	sort.Strings(sections)
	var args []schemas.ParamRow
	for _, sec := range sections {
		items := task.Hyperparams[sec]
		keys := make([]string, 0, len(items))
		for k := range items {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		name := "clearml:" + sec
		if sec == "General" {
			name = "args"
		}
		for i, k := range keys {
			it := items[k]
			if it.Name == "" {
				it.Name = k
			}
			row := convert.PyParam(name, it.Name, i, it.Value, it.Type)
			r.Params = append(r.Params, row)
			if sec == "General" {
				args = append(args, row)
			}
		}
	}
	s.DescribeArgs(args)

	if err := readEvents(ctx, s, task); err != nil {
		return err
	}
	readLog(ctx, s)
	for i, raw := range task.Execution.Artifacts {
		var art struct{ Name, URI string }
		json.Unmarshal(raw, &art)
		rel := dataPath(s, task, art.URI)
		if rel == "" || s.AddAsset(ctx, rel, schemas.RoleTrackerAsset, string(raw)) != nil {
			s.Gap(schemas.GapSessionArtifact, fmt.Sprintf("artifact %d (%q) points at %q, which is not in the session", i, art.Name, art.URI), "copy the session from the training machine again")
		}
	}
	for _, raw := range task.OfflineOutputModels {
		var m clearmloffline.OutputModel
		json.Unmarshal(raw, &m)
		// The SDK copies weights to models/<basename> inside the session.
		// The name after the last / or \ (a session from Windows).
		base := m.Weights.WeightsFilename
		if i := strings.LastIndexAny(base, `/\`); i >= 0 {
			base = base[i+1:]
		}
		rel := clearmloffline.DirModels + "/" + base
		role := schemas.RoleTrackerAsset
		if base == "best.pt" {
			role = schemas.RoleWeightsBest
		}
		if err := s.AddAsset(ctx, rel, role, string(raw)); err != nil {
			s.Gap(schemas.GapModel, fmt.Sprintf("the session's output model %q is not in its models/ folder", base), "copy the session from the training machine again")
		}
	}
	if !convert.HasAssetRole(r.Assets, schemas.RoleWeightsBest) {
		s.Gap(schemas.GapModel, "the session records no output model (its offline_output_models list is empty)", "capture the run directory, which has weights/best.pt, with --session")
	}
	taskFieldsGap(s, data, task.Hyperparams)
	gaps, _ := task.Runtime[schemas.MarkerGaps].(string)
	s.RecordedGaps(gaps)
	recorded, _ := task.Runtime[schemas.MarkerRunID].(string)
	s.SetRunID(recorded, task.ID)
	return nil
}

// dataPath maps a path the session recorded (absolute, on the training
// machine) to the file inside the session: the part after
// <offline_folder>/data/, else after the last "/data/" that names an
// existing file. "" when it resolves to nothing.
func dataPath(s *convert.Session, task clearmlTask, p string) string {
	if p == "" {
		return ""
	}
	try := func(rel string) string {
		rel = path.Clean(rel)
		if !s.Exists(rel) {
			return ""
		}
		return rel
	}
	if task.OfflineFolder != "" {
		if rest, ok := strings.CutPrefix(p, strings.TrimRight(task.OfflineFolder, "/")+"/data/"); ok {
			return try("data/" + rest)
		}
	}
	for i := strings.LastIndex(p, "/data/"); i >= 0; i = strings.LastIndex(p[:i], "/data/") {
		if rel := try("data/" + p[i+len("/data/"):]); rel != "" {
			return rel
		}
	}
	return ""
}

// readClearMLEvents reads metrics.jsonl: scalars, single values, debug
// images and plots. Broken lines are skipped with a warning and a gap
// naming their count; the lines after them are kept.
func readEvents(ctx context.Context, s *convert.Session, task clearmlTask) error {
	r := s.Run()
	const name = clearmloffline.FileMetrics
	p := s.Path(name)
	f, err := s.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		s.Gap(schemas.GapScalars, "the session has no metrics.jsonl: nothing was reported", "")
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.AddAsset(ctx, name, schemas.RoleSessionFile, ""); err != nil {
		return err
	}
	var broken convert.BrokenLines
	skipped := map[string]int{}
	var first, last int64
	epochs := map[int64]bool{}
	summary := false
	err = convert.ReadLines(f, convert.MaxSessionLine, func(line []byte, n int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(line, &raws); err != nil {
			broken.Add(n, err)
			return nil
		}
		for _, raw := range raws {
			var ev clearmloffline.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				broken.Add(n, err)
				continue
			}
			if ev.Task != task.ID || ev.ModelEvent {
				skipped["events of another task or of an output model"]++
				continue
			}
			if ev.Timestamp > 0 {
				if first == 0 || ev.Timestamp < first {
					first = ev.Timestamp
				}
				last = max(last, ev.Timestamp)
			}
			iter := int64(0)
			if ev.Iter != nil {
				iter = *ev.Iter
			}
			switch ev.Type {
			case clearmloffline.EventScalar:
				if ev.Value == nil {
					broken.Add(n, fmt.Errorf("scalar %q/%q has no value", ev.Metric, ev.Variant))
					continue
				}
				if iter == clearmloffline.SingleValueIter {
					key := ev.Variant
					if ev.Metric != "Summary" {
						key = ev.Metric + "/" + ev.Variant
					}
					r.Summary = append(r.Summary, schemas.SummaryRow{Key: key, Value: *ev.Value, Exact: true,
						Origin: "clearml single value (metrics.jsonl line " + strconv.Itoa(n) + ")", WallTime: convert.MillisTime(ev.Timestamp)})
					summary = true
					continue
				}
				it := iter
				r.Scalars = append(r.Scalars, schemas.ScalarRow{Metric: ev.Variant, Group: ev.Metric, Epoch: iter + 1, Step: &it,
					Value: *ev.Value, WallTime: convert.MillisTime(ev.Timestamp), Origin: name, Line: int64(n)})
				if strings.HasPrefix(ev.Variant, "train/") {
					epochs[iter] = true
				}
			case clearmloffline.EventDebugImage, clearmloffline.EventPlot:
				if err := storeImage(ctx, s, task, ev, raw, iter); err != nil {
					s.Gap(schemas.GapSessionImage, fmt.Sprintf("%s line %d: %s %q/%q: %v", name, n, ev.Type, ev.Metric, ev.Variant, err), "copy the session from the training machine again")
				}
			default:
				skipped[strconv.Quote(ev.Type)+" events"]++
			}
		}
		return nil
	}, broken.Add)
	if err != nil {
		return fmt.Errorf("%s: %v", p, err)
	}
	if broken.N > 0 {
		s.Warn(fmt.Sprintf("%s: %d broken lines or events skipped (first: %s); the lines after them were read", name, broken.N, broken.First))
		s.Gap(schemas.GapSessionLines, fmt.Sprintf("%s: %d lines or events could not be parsed and were skipped (first: %s); the file is stored whole", name, broken.N, broken.First), "")
	}
	for what, n := range skipped {
		s.Gap(schemas.GapSessionEvents, fmt.Sprintf("%s: %d %s are not replayed (kept in the stored file)", name, n, what), "")
	}
	r.Info.StartedAt, r.Info.EndedAt = convert.MillisTime(first), convert.MillisTime(last)
	r.Info.EpochsCompleted = int64(len(epochs))
	switch {
	case summary:
		r.Info.Status = schemas.StatusFinished
	case r.Info.EpochsPlanned != nil && r.Info.EpochsCompleted < *r.Info.EpochsPlanned:
		r.Info.Status = schemas.StatusInterrupted
	default:
		r.Info.Status = schemas.StatusUnknown
	}
	return nil
}

// storeImage stores the file of a debug image or plot event.
func storeImage(ctx context.Context, s *convert.Session, task clearmlTask, ev clearmloffline.Event, raw json.RawMessage, iter int64) error {
	var rel string
	kind := "debug_image"
	if ev.Type == clearmloffline.EventPlot {
		kind = "plot"
		var fig struct {
			Layout struct {
				Images []struct {
					Source string `json:"source"`
				} `json:"images"`
			} `json:"layout"`
		}
		if err := json.Unmarshal([]byte(ev.PlotStr), &fig); err != nil {
			return fmt.Errorf("plot_str: %v", err)
		}
		if len(fig.Layout.Images) != 1 {
			// A Plotly chart with data and no image: kept in the stored
			// metrics.jsonl, not replayed.
			return fmt.Errorf("a plot that is not a single image is not replayed (kept in the stored metrics.jsonl)")
		}
		rel = dataPath(s, task, fig.Layout.Images[0].Source)
	} else {
		if ev.Key != "" {
			if k := path.Clean("data/" + ev.Key); s.Exists(k) {
				rel = k
			}
		}
		if rel == "" {
			rel = dataPath(s, task, ev.URL)
		}
	}
	if rel == "" {
		return fmt.Errorf("its file is not in the session's data folder")
	}
	img, err := s.Image(ctx, rel)
	if err != nil {
		return err
	}
	img.Group, img.Series, img.Kind, img.WallTime, img.Record = ev.Metric, ev.Variant, kind, convert.MillisTime(ev.Timestamp), string(raw)
	step := iter
	img.Step = &step
	img.Role = schemas.RoleTrackerImage
	// The Ultralytics callback's names, so that other trackers' replays
	// find the images by role.
	switch {
	case kind == "plot":
		if role := s.FileRole(ev.Metric + ".png"); role != schemas.RoleOtherImage {
			img.Role, img.Name = role, ev.Metric
		} else if role := s.FileRole(ev.Metric + ".jpg"); role != schemas.RoleOtherImage {
			img.Role, img.Name = role, ev.Metric
		}
	case ev.Metric == "Mosaic" && ev.Variant == "train.jpg":
		img.Role, img.Name = schemas.RoleTrainBatch, fmt.Sprintf("train_batch%d", iter)
	case ev.Metric == "Validation" && ev.Variant == "val_labels.jpg":
		img.Role, img.Name = schemas.RoleValBatchLabels, fmt.Sprintf("val_batch%d_labels", iter)
	case ev.Metric == "Validation" && ev.Variant == "val_pred.jpg":
		img.Role, img.Name = schemas.RoleValBatchPred, fmt.Sprintf("val_batch%d_pred", iter)
	}
	s.Run().Images = append(s.Run().Images, img)
	return nil
}

// readLog reads log.jsonl into the logs table.
func readLog(ctx context.Context, s *convert.Session) {
	r := s.Run()
	const name = clearmloffline.FileLog
	f, err := s.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	if err := s.AddAsset(ctx, name, schemas.RoleSessionFile, ""); err != nil {
		s.Warn(fmt.Sprintf("%s: %v", name, err))
		return
	}
	var broken convert.BrokenLines
	err = convert.ReadLines(f, convert.MaxSessionLine, func(line []byte, n int) error {
		var evs []struct {
			Timestamp int64  `json:"timestamp"`
			Level     string `json:"level"`
			Worker    string `json:"worker"`
			Msg       string `json:"msg"`
		}
		if err := json.Unmarshal(line, &evs); err != nil {
			broken.Add(n, err)
			return nil
		}
		for _, e := range evs {
			r.Logs = append(r.Logs, schemas.LogRow{Time: convert.MillisTime(e.Timestamp), Level: e.Level, Worker: e.Worker, Message: e.Msg, Origin: name, Line: int64(n)})
		}
		return nil
	}, broken.Add)
	if err != nil {
		broken.Add(0, err)
	}
	if broken.N > 0 {
		s.Warn(fmt.Sprintf("%s: %d broken lines skipped (first: %s); the lines after them were read", name, broken.N, broken.First))
		s.Gap(schemas.GapSessionLogLines, fmt.Sprintf("%s: %d lines could not be parsed and were skipped (first: %s); the file is stored whole", name, broken.N, broken.First), "")
	}
}

// clearmlTableFields are the task.json fields the tables hold.
var clearmlTableFields = map[string]bool{"id": true, "name": true, "project_name": true, "tags": true, "hyperparams": true,
	"offline_folder": true, "offline_output_models": true, "type": true, "runtime": true}

// taskFieldsGap names the task.json fields with content that no table
// holds (script, configuration, execution, ...) and the hyperparameter
// descriptions (of hp, task.json's hyperparams as read): they stay in
// the stored task.json only.
func taskFieldsGap(s *convert.Session, data []byte, hp map[string]map[string]clearmloffline.Param) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return
	}
	var kept []string
	for k, v := range fields {
		switch string(v) {
		case "null", "{}", "[]", `""`:
			continue
		}
		if !clearmlTableFields[k] {
			kept = append(kept, k)
		}
	}
	for _, items := range hp {
		for _, it := range items {
			if it.Description != "" && it.Description != "None" {
				kept = append(kept, "hyperparameter descriptions")
				break
			}
		}
		if len(kept) > 0 && kept[len(kept)-1] == "hyperparameter descriptions" {
			break
		}
	}
	if len(kept) == 0 {
		return
	}
	sort.Strings(kept)
	s.Gap(schemas.GapSessionTaskFields, "task.json's "+strings.Join(kept, ", ")+" are kept in the stored task.json, not in the tables, and are not replayed", "")
}
