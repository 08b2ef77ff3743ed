// Package cometsession captures a Comet offline experiment (the zip the
// SDK writes in offline mode, or its folder extracted; comet-api.md §5):
// a session reader registered with convert.RegisterReader. Importing it
// for its side effect (one line in cmd/yoloarchive) is what makes capture
// read Comet sessions.
package cometsession

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
	"github.com/yoloarchive/yoloarchive/schemas/cometoffline"
)

func init() {
	convert.RegisterReader(convert.Reader{
		Kind:  schemas.SourceCometOffline,
		Name:  "a Comet offline zip",
		Order: 2,
		IsRun: isComet,
		Read:  read,
		Zip: func(names map[string]bool) bool {
			return names[cometoffline.FileExperiment] || names[cometoffline.FileMessages]
		},
		ZipFiles: "experiment.json and messages.json (Comet offline experiment)",
		FS:       true,
	})
}

// isComet reports whether dir is a Comet offline experiment (a zip
// extracted): experiment.json and messages.json.
func isComet(dir string) bool {
	for _, name := range []string{cometoffline.FileExperiment, cometoffline.FileMessages} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// read reads a Comet offline experiment zip, extracted to s.Root()
// (comet-api.md §5): experiment.json and every messages.json line, into
// the archive's tables. Messages with no table of their own (system
// details, packages, git, html, ...) are kept as params of section
// "comet:<type>"; both files are stored whole.
func read(ctx context.Context, s *convert.Session) error {
	r := s.Run()
	data, err := s.ReadFile(cometoffline.FileExperiment)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: experiment.json is missing: the Comet SDK writes it when the experiment ends (an offline zip without it cannot be uploaded either)", r.Source)
	}
	if err != nil {
		return err
	}
	var meta cometoffline.Experiment
	if err := json.Unmarshal(data, &meta); err != nil {
		return fmt.Errorf("%s: experiment.json: %v (the zip is damaged; copy it again)", r.Source, err)
	}
	if err := s.AddAsset(ctx, cometoffline.FileExperiment, schemas.RoleSessionFile, ""); err != nil {
		return err
	}
	r.Info.SessionID = meta.OfflineID
	if meta.ProjectName != nil {
		r.Info.Project = *meta.ProjectName
	}
	r.Info.Tags = meta.Tags
	r.Info.StartedAt, r.Info.EndedAt = convert.MillisTime(meta.StartTime), convert.MillisTime(meta.StopTime)
	r.Info.TimeSource = "session"
	r.Info.Mode = "train"

	const name = cometoffline.FileMessages
	f, err := s.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: messages.json is missing: not a Comet offline experiment, or one cut short", r.Source)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.AddAsset(ctx, name, schemas.RoleSessionFile, ""); err != nil {
		return err
	}
	c := cometReader{s: s, params: map[string]int{}, others: map[string]int{}, raw: map[string]int{}}
	if st, err := f.Stat(); err == nil {
		// Most lines are metric messages of about 180 bytes.
		r.Scalars = make([]schemas.ScalarRow, 0, min(st.Size()/180, 1<<24))
	}
	var broken convert.BrokenLines
	err = convert.ReadLines(f, convert.MaxSessionLine, func(line []byte, n int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// One decoding pass for the common messages; the raw payload is
		// decoded again only for the few that keep it.
		var m cometoffline.Line
		if err := json.Unmarshal(line, &m); err != nil {
			broken.Add(n, err)
			return nil
		}
		if m.Payload == nil {
			broken.Add(n, fmt.Errorf("%q message without a payload", m.Type))
			return nil
		}
		if err := c.message(ctx, m.Type, m.Payload, line, n); err != nil {
			broken.Add(n, err)
		}
		return nil
	}, broken.Add)
	if err != nil {
		return fmt.Errorf("%s: %s: %v", r.Source, name, err)
	}
	if broken.N > 0 {
		s.Warn(fmt.Sprintf("%s: %d broken lines skipped (first: %s); the lines after them were read", name, broken.N, broken.First))
		s.Gap(schemas.GapSessionLines, fmt.Sprintf("%s: %d lines could not be parsed and were skipped (first: %s); the file is stored whole", name, broken.N, broken.First), "")
	}
	c.describe()
	if c.name != "" {
		r.Info.Name = c.name
	}
	switch {
	case c.trainEnd || hasImageRole(r.Images, schemas.RoleConfusionMatrix):
		r.Info.Status = schemas.StatusFinished
	case r.Info.EpochsPlanned != nil && r.Info.EpochsCompleted < *r.Info.EpochsPlanned:
		r.Info.Status = schemas.StatusInterrupted
	default:
		r.Info.Status = schemas.StatusUnknown
	}
	if !convert.HasAssetRole(r.Assets, schemas.RoleWeightsBest) {
		s.Gap(schemas.GapModel, "the Comet session holds no best.pt (log_model)", "capture the run directory, which has weights/best.pt")
	}
	if r.Info.Status == schemas.StatusFinished {
		// The callback logs the final validation's metrics/* again at the
		// last step: those repeats are the run's final values.
		seen := map[string]bool{}
		for _, s := range r.Scalars {
			k := s.Metric + "\x00" + strconv.FormatInt(s.Epoch, 10)
			if seen[k] && strings.HasPrefix(s.Metric, "metrics/") {
				e := s.Epoch
				r.Summary = append(r.Summary, schemas.SummaryRow{Key: s.Metric, Value: s.Value, Epoch: &e, Exact: true,
					Origin: fmt.Sprintf("comet final validation (messages.json line %d)", s.Line), WallTime: s.WallTime})
			}
			seen[k] = true
		}
		s.Gap(schemas.GapFitness, "the Comet callback does not log the fitness single value", "")
	}
	s.RecordedGaps(c.gaps)
	kinds := make([]string, 0, len(c.raw))
	for k := range c.raw {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		s.Gap(schemas.GapCometMessage(k), fmt.Sprintf("%d %q messages of the Comet session are kept as params of section comet:%s, which only a Comet destination writes back", c.raw[k], k, strconv.Quote(k)), "")
	}
	key := meta.OfflineID
	if key == "" {
		// No offline_id (the SDK then picks a random key at upload): the
		// messages identify the experiment.
		key = "messages:" + s.Digest(cometoffline.FileMessages)
	}
	// The task from the metric names when the arguments did not give it.
	s.Finish(c.runID, key)
	return nil
}

// cometReader turns messages into rows.
type cometReader struct {
	s              *convert.Session
	params, others map[string]int // key → row index, last write wins
	raw            map[string]int // system messages by type
	name, runID    string
	gaps           string
	// trainEnd is set by the records a callback logs when training ends
	// (best.pt, results.csv).
	trainEnd    bool
	annotations int64
}

func hasImageRole(imgs []schemas.ImageRow, role string) bool {
	for _, im := range imgs {
		if im.Role == role {
			return true
		}
	}
	return false
}

// message reads one message; an error marks its line broken.
func (c *cometReader) message(ctx context.Context, typ string, pp *cometoffline.Payload, text []byte, line int) error {
	p := *pp
	raw := func() json.RawMessage {
		var m struct {
			Payload json.RawMessage `json:"payload"`
		}
		json.Unmarshal(text, &m)
		return m.Payload
	}
	if typ == cometoffline.TypeWsMsg {
		// Legacy form: the uploader takes metric first, then param(s),
		// then the first field that is set.
		switch {
		case p.Metric != nil:
			typ = cometoffline.TypeMetric
		case p.Param != nil || p.Params != nil:
			typ = cometoffline.TypeParameter
		case p.LogOther != nil:
			typ = cometoffline.TypeLogOther
			key := p.LogOther.Key
			p.Key, p.Value = &key, p.LogOther.Val
		case p.Stdout != nil:
			typ, p.Output = cometoffline.TypeStandardOutput, p.Stdout
		default:
			var fields map[string]json.RawMessage
			json.Unmarshal(raw(), &fields)
			for _, lf := range cometoffline.LegacyFields {
				if v, ok := fields[lf.Field]; ok && string(v) != "null" {
					payload := map[string]json.RawMessage{lf.Key: v}
					if lf.Key == "" {
						payload = nil
						if err := json.Unmarshal(v, &payload); err != nil {
							return fmt.Errorf("ws_msg %s: %v", lf.Field, err)
						}
					}
					return c.system(lf.Type, payload)
				}
			}
			return fmt.Errorf("ws_msg message with no field the uploader knows")
		}
	}
	r := c.s.Run()
	switch typ {
	case cometoffline.TypeMetric:
		if p.Metric == nil || p.Metric.MetricName == "" {
			return fmt.Errorf("metric_msg without a metric name")
		}
		v, err := cometNumber(p.Metric.MetricValue)
		if err != nil {
			return fmt.Errorf("metric %q: %v", p.Metric.MetricName, err)
		}
		// Epoch is made 1-based once the producer is known (describe).
		row := schemas.ScalarRow{Metric: p.Metric.MetricName, Step: p.Metric.Step, SessionEpoch: p.Metric.Epoch, Value: v,
			WallTime: convert.MillisTime(p.LocalTimestamp), Origin: cometoffline.FileMessages, Line: int64(line)}
		if p.Context != nil {
			row.Group = *p.Context
		}
		r.Scalars = append(r.Scalars, row)
	case cometoffline.TypeParameter:
		prm := p.Param
		if prm == nil {
			prm = p.Params
		}
		if prm == nil || prm.ParamName == "" {
			return fmt.Errorf("parameter_msg without a parameter name")
		}
		row := jsonParam("args", prm.ParamName, 0, prm.ParamValue)
		row.WallTime = convert.MillisTime(p.LocalTimestamp)
		c.set(c.params, row)
	case cometoffline.TypeLogOther:
		if p.Key == nil {
			return fmt.Errorf("log_other without a key")
		}
		if *p.Key == schemas.MarkerFinal {
			return nil // a yoloarchive sync's marker of a finished run, not data
		}
		row := jsonParam("others", *p.Key, 0, p.Value)
		switch *p.Key {
		case "Name":
			if row.String != nil {
				c.name = *row.String
			}
		case schemas.MarkerRunID:
			if row.String != nil {
				c.runID = *row.String
			}
		case schemas.MarkerGaps:
			if row.String != nil {
				c.gaps = *row.String
			}
		}
		c.set(c.others, row)
	case cometoffline.TypeStandardOutput:
		if p.Output == nil {
			return nil
		}
		level := "stdout"
		if b, _ := p.Stderr.(bool); b {
			level = "stderr"
		}
		r.Logs = append(r.Logs, schemas.LogRow{Time: convert.MillisTime(p.LocalTimestamp), Level: level, Message: *p.Output, Origin: cometoffline.FileMessages, Line: int64(line)})
	case cometoffline.TypeFileUpload:
		return c.upload(ctx, p, raw(), line)
	default:
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw(), &fields); err != nil {
			return fmt.Errorf("%q message: %v", typ, err)
		}
		return c.system(typ, fields)
	}
	return nil
}

// set adds a param row, or replaces the earlier one with its key (the
// uploader keeps the last value of a name).
func (c *cometReader) set(index map[string]int, row schemas.ParamRow) {
	r := c.s.Run()
	if i, ok := index[row.Key]; ok {
		row.Position = r.Params[i].Position
		r.Params[i] = row
		return
	}
	row.Position = int32(len(index))
	index[row.Key] = len(r.Params)
	r.Params = append(r.Params, row)
}

// system keeps a message with no table of its own as params of section
// "comet:<type>", keys "<n>.<field>" with n its ordinal among messages
// of that type, so that it can be written again as it was.
func (c *cometReader) system(typ string, fields map[string]json.RawMessage) error {
	n := c.raw[typ]
	c.raw[typ]++
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k == "message_id" || k == "offset" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		c.s.Run().Params = append(c.s.Run().Params, jsonParam("comet:"+typ, strconv.Itoa(n)+"."+k, i, fields[k]))
	}
	return nil
}

// upload stores the file of a file_upload message: an image (with its
// annotation layers), the model, or another asset.
func (c *cometReader) upload(ctx context.Context, p cometoffline.Payload, raw json.RawMessage, line int) error {
	r := c.s.Run()
	if p.FilePath == "" {
		return fmt.Errorf("file_upload without a file_path")
	}
	rel := path.Clean(filepath.ToSlash(p.FilePath))
	if !c.s.ValidPath(rel) || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("file_upload file_path %q points outside the zip", p.FilePath)
	}
	str := func(k string) string { s, _ := p.Additional[k].(string); return s }
	var step *int64
	if f, ok := p.Additional["step"].(float64); ok {
		v := int64(f)
		step = &v
	}
	if p.UploadType == cometoffline.UploadVisualization {
		img, err := c.s.Image(ctx, rel)
		if err != nil {
			c.s.Gap(schemas.GapSessionImage, fmt.Sprintf("messages.json line %d: image %q: %v", line, p.FilePath, err), "copy the zip again")
			return nil
		}
		figName := str("figName")
		if figName == "" {
			figName = stem(p.FilePath)
		}
		img.Name, img.Series, img.Kind, img.Step, img.WallTime, img.Record = figName, figName, "image", step, convert.MillisTime(p.LocalTimestamp), string(raw)
		img.Group = str("context")
		img.Role = schemas.RoleTrackerImage
		if role := c.s.FileRole(figName + path.Ext(rel)); role != schemas.RoleOtherImage {
			img.Role = role
		}
		r.Images = append(r.Images, img)
		if p.Metadata != nil {
			for _, l := range p.Metadata.Annotations {
				for _, d := range l.Data {
					a := schemas.AnnotationRow{Image: figName, ImageFile: rel, Layer: l.Name, ClassID: -1, Label: d.Label, Polygons: d.Points,
						Origin: cometoffline.FileMessages, Index: c.annotations}
					c.annotations++
					if d.Score != nil {
						s := *d.Score / 100
						a.Score = &s
					}
					if len(d.Boxes) > 0 && len(d.Boxes[0]) == 4 {
						b := d.Boxes[0]
						a.BoxX, a.BoxY, a.BoxW, a.BoxH = &b[0], &b[1], &b[2], &b[3]
					}
					r.Annotations = append(r.Annotations, a)
				}
			}
		}
		return nil
	}
	role := schemas.RoleTrackerAsset
	switch {
	case p.UploadType == cometoffline.UploadModelElement && path.Base(str("fileName")) == "best.pt":
		role, c.trainEnd = schemas.RoleWeightsBest, true
	case p.UploadType == cometoffline.UploadConfusionMatrix:
		role = schemas.RoleConfusionMatrixData
	case path.Base(str("fileName")) == "results.csv":
		// Logged at train end, by YOLOv5's Comet logger and by
		// Ultralytics' callback since 8.3.176.
		c.trainEnd = true
	}
	if err := c.s.AddAsset(ctx, rel, role, string(raw)); err != nil {
		c.s.Gap(schemas.GapSessionAsset, fmt.Sprintf("messages.json line %d: %q %q is not in the zip", line, p.UploadType, p.FilePath), "copy the zip again")
	}
	return nil
}

// cometNumber reads a metric value: a number, or one of the strings the
// SDK writes for NaN and infinities, or a numeric string.
func cometNumber(raw json.RawMessage) (float64, error) {
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return f, nil
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.Replace(x, "Infinity", "Inf", 1), 64)
		if err != nil {
			return 0, fmt.Errorf("value %q is not a number", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("value %s is not a number", raw)
}

// describe recognises what wrote a Comet session from what it logged,
// YOLOv5's Comet logger or Ultralytics' callback (8.x), and fills the run
// row: producer, task, version range, settings, epochs. It also makes
// every metric point's epoch 1-based: YOLOv5 logs 0-based epochs.
func (c *cometReader) describe() {
	r := c.s.Run()
	var rows []schemas.ParamRow
	others := map[string]schemas.ParamRow{}
	for _, p := range r.Params {
		switch p.Section {
		case "args":
			rows = append(rows, p)
		case "others":
			others[p.Key] = p
		}
	}
	metrics := map[string]bool{}
	for _, s := range r.Scalars {
		metrics[s.Metric] = true
	}
	args := convert.NewParams(rows)
	producer, evidence := cometProducer(c.s, args, others, metrics)
	r.Info.Producer = producer
	if producer == schemas.ProducerYOLOv5 {
		// opt (vars(opt)) and hyp: no Ultralytics release to date.
		r.Info.SaveDir, r.Info.Dataset, r.Info.Name = args.String("save_dir"), args.String("data"), args.String("name")
		if e, ok := args.Int("epochs"); ok {
			r.Info.EpochsPlanned = &e
		}
		if b, ok := args.Int("batch_size"); ok && b > 0 {
			r.Info.Batch = &b
		}
		r.Info.VersionEvidence = append(evidence, "YOLOv5's Comet logger, not an Ultralytics 8.x release")
	} else {
		c.s.DescribeArgs(rows)
	}
	epochs := map[int64]bool{}
	for i := range r.Scalars {
		s := &r.Scalars[i]
		if s.SessionEpoch == nil {
			continue
		}
		s.Epoch = *s.SessionEpoch
		if producer == schemas.ProducerYOLOv5 {
			s.Epoch++
		}
		if strings.HasPrefix(s.Metric, "train/") {
			epochs[s.Epoch] = true
		}
	}
	r.Info.EpochsCompleted = int64(len(epochs))
}

// cometProducer tells the producer of a Comet session by the first of
// these that says it: the "Created from" other, the callback's other
// settings, the training settings' keys, the metric names. The facts
// found about an Ultralytics release are recorded in s, with its release
// bounds; those about a YOLOv5 run are returned.
func cometProducer(s *convert.Session, args *convert.Params, others map[string]schemas.ParamRow, metrics map[string]bool) (string, []string) {
	if p, ok := others["Created from"]; ok && p.String != nil {
		fact := fmt.Sprintf("the other %q is %q", "Created from", *p.String)
		switch *p.String {
		case "YOLOv5":
			return schemas.ProducerYOLOv5, []string{fact}
		case "yolov8":
			s.VersionAtMost("8.3.20", fact)
			return schemas.ProducerUltralytics, nil
		case "ultralytics":
			s.VersionAtLeast("8.3.21", fact)
			return schemas.ProducerUltralytics, nil
		}
	}
	if _, ok := others["log_confusion_matrix_on_eval"]; ok {
		s.VersionAtLeast("8.0.118", "the callback's other log_confusion_matrix_on_eval")
		return schemas.ProducerUltralytics, nil
	}
	if _, ok := others["log_confusion_matrix"]; ok {
		s.VersionAtLeast("8.0.67", "the callback's other log_confusion_matrix")
		s.VersionAtMost("8.0.117", "the callback's other log_confusion_matrix")
		return schemas.ProducerUltralytics, nil
	}
	has := func(k string) bool { _, ok := args.Get(k); return ok }
	switch {
	case has("noautoanchor") || has("anchor_t") && has("obj"):
		return schemas.ProducerYOLOv5, []string{"the parameters have YOLOv5's opt or hyp keys (noautoanchor, anchor_t)"}
	case has("task") && has("mode"):
		return schemas.ProducerUltralytics, nil // args.yaml: DescribeArgs dates it
	case metrics["train/obj_loss"] || metrics["x/lr0"]:
		return schemas.ProducerYOLOv5, []string{"the metrics have YOLOv5's names (train/obj_loss, x/lr0)"}
	case metrics["lr/pg0"]:
		s.VersionEvidence("the metrics have Ultralytics 8.x names (lr/pg0)")
		return schemas.ProducerUltralytics, nil
	}
	return "", nil
}

// jsonParam types a JSON value (a Comet parameter or other).
func jsonParam(section, key string, pos int, raw json.RawMessage) schemas.ParamRow {
	row := schemas.ParamRow{Section: section, Key: key, Position: int32(pos), Text: string(raw)}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		s := string(raw)
		row.Type, row.String = schemas.TypeString, &s
		return row
	}
	switch x := v.(type) {
	case nil:
		row.Type, row.Text = schemas.TypeNull, "null"
	case bool:
		row.Type, row.Bool = schemas.TypeBool, &x
	case json.Number:
		switch i, f, typ := jsonNumber(x); typ {
		case schemas.TypeInt:
			row.Type, row.Int = typ, &i
		case schemas.TypeFloat:
			row.Type, row.Float = typ, &f
		default:
			s := x.String() // out of float64's range: kept as written
			row.Type, row.String = schemas.TypeString, &s
		}
		row.Text = x.String()
	case string:
		row.Type, row.String, row.Text = schemas.TypeString, &x, x
	case []any:
		for _, it := range x {
			switch it.(type) {
			case map[string]any, []any:
				row.Type = schemas.TypeJSON // a list of objects or lists
				return row
			}
		}
		// Text keeps the JSON list; each item's text and JSON type are
		// kept too, so that [0] stays a list of ints and ["0"] of strings.
		row.Type = schemas.TypeList
		for _, it := range x {
			t, typ := "null", schemas.TypeNull
			switch v := it.(type) {
			case bool:
				t, typ = strconv.FormatBool(v), schemas.TypeBool
			case json.Number:
				_, _, typ = jsonNumber(v)
				t = v.String()
			case string:
				t, typ = v, schemas.TypeString
			}
			row.Items = append(row.Items, t)
			row.ItemTypes = append(row.ItemTypes, typ)
		}
		for i, typ := range row.ItemTypes {
			if i == 0 {
				row.ItemType = typ
			} else if typ != row.ItemType {
				row.ItemType = schemas.TypeMixed
			}
		}
	default:
		row.Type = schemas.TypeJSON
	}
	return row
}

// jsonNumber types a JSON number as Python's json module reads it: an
// int when written without a fraction or exponent (and within int64), a
// float otherwise; TypeString when it fits neither.
func jsonNumber(n json.Number) (int64, float64, string) {
	if i, err := n.Int64(); err == nil && !strings.ContainsAny(n.String(), ".eE") {
		return i, 0, schemas.TypeInt
	}
	if f, err := n.Float64(); err == nil {
		return 0, f, schemas.TypeFloat
	}
	return 0, 0, schemas.TypeString
}

// stem is a file name without its folder and extension.
func stem(p string) string {
	b := path.Base(p)
	return strings.TrimSuffix(b, path.Ext(b))
}
