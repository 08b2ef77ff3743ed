package comet

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/schemas/cometoffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/pyfmt"
)

// RunIDOther is the "other" that carries an archive's run id on its
// experiment, so that a second sync finds the experiment instead of
// making a new one.
const RunIDOther = schemas.MarkerRunID

// FinalOther is the other a REST sync logs once it ended the experiment
// with a run's final state ("true"): an earlier state synced later (a
// lagging copy of a chain) then knows the experiment is ahead of it.
const FinalOther = schemas.MarkerFinal

// Offline writes Comet offline experiment zips, as the Comet SDK writes
// them with COMET_START_ONLINE=0, for `comet upload` on a connected
// machine.
type Offline struct {
	dir  string // as given, for messages
	abs  string
	opts Options
}

var _ ysync.Writer = (*Offline)(nil)

// NewOffline returns an Offline writing zips into dir.
func NewOffline(dir string, opts Options) *Offline {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return &Offline{dir: dir, abs: abs, opts: opts}
}

// Destination names the output directory.
func (o *Offline) Destination() string { return "comet-offline:" + o.abs }

// Tracker is "comet".
func (o *Offline) Tracker() string { return "comet" }

// Plan counts what Sync would write.
func (o *Offline) Plan(ctx context.Context, run *ysync.Run) (*ysync.Plan, error) {
	l, err := buildStream(ctx, run, o.opts)
	if err != nil {
		return nil, err
	}
	p, err := l.count(ctx)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// OfflineID is the experiment key an offline zip asks for: the sha1 hex
// of the run id, so that a second upload of the same run is refused by
// Comet ("already uploaded") instead of duplicating it.
func OfflineID(runID string) string {
	h := sha1.Sum([]byte("yoloarchive-comet:" + runID))
	return hex.EncodeToString(h[:])
}

// ZipName is the file name Sync gives a run's zip: the run name made
// safe for file systems ([archive.SafeName]), a dash and the first 8 hex
// digits of the run id.
func ZipName(name, runID string) string {
	if len(runID) > 8 {
		runID = runID[:8]
	}
	return archive.SafeName(name) + "-" + runID + ".zip"
}

// Write writes <dir>/<name>-<run id prefix>.zip atomically (a temporary
// file in dir, fsync, rename): a failed or cancelled write leaves nothing
// behind, and an existing zip is replaced only by a complete one.
func (o *Offline) Write(ctx context.Context, run *ysync.Run, st *ysync.State, task *ysync.Task, res *ysync.Result) (err error) {
	if !run.Final() {
		// An offline export ends its run: written now, it would stand
		// for the whole run, and a second one after the final link
		// would make a second run on upload.
		return fmt.Errorf("%s: the run was captured while still training (a chain without its final link, or a compaction of one): offline exports are written from the final link; sync to a server to see progress, or, if training stopped for good, capture the run directory again (status interrupted) and export that", run.Path)
	}
	l, err := buildStream(ctx, run, o.opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.abs, 0o777); err != nil {
		return fmt.Errorf("comet-offline: cannot create the output directory %s: %v (choose another --out)", o.abs, err)
	}
	name := ZipName(l.Name, run.RunID())
	dst := filepath.Join(o.abs, name)
	f, err := scratch.Create(o.abs, name)
	if err != nil {
		return fmt.Errorf("comet-offline: cannot write in %s: %v (check permissions and free space)", o.abs, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			scratch.Remove(tmp)
		}
	}()
	// The metric calls are generated as they are written, not counted
	// first: the bar shows the time the zip takes, as clearml-offline's.
	task.Stage("write", 0)
	if err := WriteZip(ctx, f, run, l); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("comet-offline: %s: %w (check free space in %s; `yoloarchive verify` checks the archive)", dst, err, o.abs)
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("comet-offline: %s: %s: %v (check free space and permissions of %s)", dst, what, err, o.abs)
	}
	if err := f.Chmod(scratch.FileMode()); err != nil {
		return fail("chmod", err)
	}
	if err := f.Sync(); err != nil {
		return fail("fsync", err)
	}
	if err := f.Close(); err != nil {
		return fail("close", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := scratch.Rename(tmp, dst); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return fmt.Errorf("comet-offline: %s: cannot put the zip in place: %v (move away what is at that path)", dst, err)
	}
	res.Status, res.Output, res.RemoteID = ysync.StatusWritten, filepath.Join(o.dir, name), l.key()
	return nil
}

// WriteZip writes the offline experiment zip of a Log: experiment.json,
// messages.json (one {"type", "payload"} object per line, sorted keys, no
// message_id, NaN and infinities as strings) and the files the
// file_upload messages name, streamed from the archive's extracted blobs
// (stored, as the SDK stores them). Errors name the zip entry.
func WriteZip(ctx context.Context, w io.Writer, run *ysync.Run, l *Log) error {
	zw := zip.NewWriter(w)
	meta := cometoffline.Experiment{
		OfflineID: l.key(), ProjectName: nullable(l.Project), Workspace: nullable(l.Workspace),
		StartTime: l.Start.UnixMilli(), StopTime: l.End.UnixMilli(), Tags: nonNil(l.Tags),
		ResumeStrategy: "create",
	}
	mb, err := toJSON(meta)
	if err != nil {
		return fmt.Errorf("experiment.json: %v", err)
	}
	if err := writeEntry(zw, cometoffline.FileExperiment, func(w io.Writer) error { _, err := w.Write(mb); return err }); err != nil {
		return err
	}
	// The messages are written as the Log generates them (a big run's
	// metric calls are never listed whole); the files they name follow.
	var files []zipFile
	err = writeEntry(zw, cometoffline.FileMessages, func(w io.Writer) error {
		var err error
		files, err = messages(ctx, l, func(m []byte) error {
			if _, err := w.Write(m); err != nil {
				return err
			}
			_, err := io.WriteString(w, "\n")
			return err
		})
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	var digests []string
	for _, f := range files {
		if f.file.Data == nil {
			digests = append(digests, f.file.Digest)
		}
	}
	blobs, err := run.Extract(ctx, digests)
	if err != nil {
		return fmt.Errorf("reading the archive's files: %w", err)
	}
	defer blobs.Close()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		hw, err := zw.CreateHeader(&zip.FileHeader{Name: f.zipName, Method: zip.Store, Modified: time.Unix(0, 0).UTC()})
		if err != nil {
			return fmt.Errorf("%s (%s): %v", f.zipName, f.file.Name, err)
		}
		if f.file.Data != nil {
			if _, err := hw.Write(f.file.Data); err != nil {
				return fmt.Errorf("%s (%s): %v", f.zipName, f.file.Name, err)
			}
			continue
		}
		in, err := blobs.Open(f.file.Digest)
		if err != nil {
			return fmt.Errorf("%s (%s): %v", f.zipName, f.file.Name, err)
		}
		_, err = io.Copy(hw, archive.ContextReader(ctx, in))
		in.Close()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s (%s): %v", f.zipName, f.file.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip directory: %v", err)
	}
	return nil
}

// writeEntry writes one deflated metadata entry of the zip.
func writeEntry(zw *zip.Writer, name string, fill func(io.Writer) error) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
	if err == nil {
		err = fill(w)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

// nullable is s, or nil (JSON null) when s is empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// zipFile is a payload file of the zip.
type zipFile struct {
	zipName string
	file    *File
}

// key is the experiment key the Log's zip asks for.
func (l *Log) key() string {
	if l.Key != "" {
		return l.Key
	}
	return OfflineID(l.RunID)
}

// Messages renders a Log as the SDK's offline messages (JSON lines) and
// lists the payload files they reference. As the SDK, it leaves out a
// metric's or parameter's null context. The messages are the typed
// payloads of schemas/cometoffline; only a captured session's own
// records (an upload's payload, a message kept whole) are written back as
// the free-form objects they were.
func Messages(l *Log) ([][]byte, []zipFile, error) {
	var out [][]byte
	files, err := messages(context.Background(), l, func(m []byte) error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, files, nil
}

// messages is Messages for any Log: it hands each message to write as
// the Log generates its call (write must not keep the slice) and returns
// the files they name, stopping at the first error.
func messages(ctx context.Context, l *Log, write func([]byte) error) ([]zipFile, error) {
	var files []zipFile
	var jerr error
	emit := func(typ string, payload any) {
		if jerr != nil {
			return
		}
		b, err := toJSON(cometoffline.Message{Type: typ, Payload: payload})
		if err != nil {
			jerr = fmt.Errorf("comet: %s message: %v", typ, err)
			return
		}
		jerr = write(b)
	}
	other := func(key string, value any) {
		v, err := toJSON(paramJSON(value))
		if err != nil && jerr == nil {
			jerr = fmt.Errorf("comet: other %q: %v", key, err)
		}
		emit(cometoffline.TypeLogOther, cometoffline.LogOtherPayload{Key: key, Value: v})
	}
	ts := func(c Call) int64 { return c.Time.UnixMilli() }
	other(RunIDOther, l.RunID)
	// A zip is written only for a finished run: once uploaded, the
	// experiment is ahead of any unfinished state synced later.
	other(FinalOther, "true")
	if l.Gaps != "" {
		other(ysync.GapsOther, l.Gaps)
	}
	if l.Name != "" && !l.Unnamed {
		other("Name", l.Name)
	}
	figCounter := 0
	err := l.each(ctx, func(i int, c Call) error {
		switch c.Kind {
		case KindParameters:
			for _, kv := range c.Params {
				v, err := toJSON(paramJSON(kv.Value))
				if err != nil && jerr == nil {
					jerr = fmt.Errorf("comet: parameter %q: %v", kv.Key, err)
				}
				prm := &cometoffline.Param{ParamName: kv.Key, ParamValue: v, Source: "manual"}
				payload := cometoffline.ParameterPayload{Context: c.Context, LocalTimestamp: ts(c), Param: prm}
				if _, isList := kv.Value.([]any); isList {
					payload.Param, payload.Params = nil, prm
				}
				emit(cometoffline.TypeParameter, payload)
			}
		case KindOthers, KindOther:
			for _, kv := range c.Others {
				other(kv.Key, kv.Value)
			}
		case KindMetrics:
			for _, m := range c.Metrics {
				metric := &cometoffline.Metric{MetricName: m.Name, MetricValue: metricRaw(m.Value), Step: c.Step, Epoch: c.Epoch}
				emit(cometoffline.TypeMetric, cometoffline.MetricPayload{Context: c.Context, LocalTimestamp: ts(c), Metric: metric})
			}
		case KindImage, KindModel, KindTable, KindAsset, KindConfusionMatrix:
			zname := fmt.Sprintf("file_%04d_%s", i, archive.SafeName(c.File.Name))
			files = append(files, zipFile{zname, c.File})
			if c.Upload != nil {
				// A captured session's upload, written again as it was
				// (free-form: whatever its SDK recorded).
				payload := make(map[string]any, len(c.Upload))
				for k, v := range c.Upload {
					payload[k] = v
				}
				delete(payload, "message_id")
				delete(payload, "offset")
				payload["file_path"] = zname
				if c.Kind == KindImage {
					figCounter++
				}
				emit(cometoffline.TypeFileUpload, payload)
				return jerr
			}
			params := &cometoffline.UploadParams{Context: nullable(c.Context), Step: c.Step,
				Extension: strings.TrimPrefix(path.Ext(c.File.Name), ".")}
			var meta *cometoffline.Metadata
			uploadType := cometoffline.UploadAsset
			switch c.Kind {
			case KindImage:
				uploadType = cometoffline.UploadVisualization
				n := figCounter
				params.FigName, params.FigCounter = c.Name, &n
				params.ImageID = idFor(l.RunID, "image", c.Name, i)
				figCounter++
				if len(c.Annotations) > 0 {
					meta = &cometoffline.Metadata{Annotations: annotationsJSON(c.Annotations)}
				}
			case KindModel:
				uploadType = cometoffline.UploadModelElement
				params.FileName, params.Overwrite, params.Type, params.GroupingName = c.File.Name, c.Overwrite, cometoffline.UploadModelElement, c.Name
				params.AssetID = idFor(l.RunID, "model", c.File.Name, i)
			case KindConfusionMatrix:
				uploadType = cometoffline.UploadConfusionMatrix
				params.FileName, params.Type, params.Epoch = "confusion-matrix.json", cometoffline.UploadConfusionMatrix, c.Epoch
				params.AssetID = idFor(l.RunID, "cm", "", i)
			default:
				params.FileName, params.Overwrite = c.File.Name, c.Overwrite
				params.AssetID = idFor(l.RunID, "asset", c.File.Name, i)
				if c.AssetType != "" && c.AssetType != cometoffline.UploadAsset {
					uploadType, params.Type = c.AssetType, c.AssetType
				}
				if c.Epoch != nil {
					params.Epoch = *c.Epoch
				}
			}
			emit(cometoffline.TypeFileUpload, cometoffline.UploadPayload{FilePath: zname, UploadType: uploadType, LocalTimestamp: ts(c),
				AdditionalParams: params, Metadata: meta, Clean: true})
		case KindOutput:
			emit(cometoffline.TypeStandardOutput, cometoffline.OutputPayload{Output: c.Output, Stderr: c.Stderr, LocalTimestamp: ts(c)})
		case KindRaw:
			// A message of a captured session kept whole (system details,
			// packages, git, ...): free-form, written back as it was.
			payload, _ := paramJSON(c.RawPayload).(map[string]any)
			emit(c.RawType, payload)
		default:
			return fmt.Errorf("comet: unknown call %q", c.Kind)
		}
		return jerr
	})
	if err != nil {
		return nil, err
	}
	if jerr != nil {
		return nil, jerr
	}
	return files, nil
}

// idFor is a deterministic 32-hex id for an uploaded item.
func idFor(runID, kind, name string, i int) string {
	h := sha1.Sum([]byte(fmt.Sprintf("%s/%s/%s/%d", runID, kind, name, i)))
	return hex.EncodeToString(h[:16])
}

// metricJSON writes NaN and infinities as the SDK does: as strings.
func metricJSON(v float64) any {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return pyNumber(v)
}

// metricRaw is metricJSON's JSON text, for a typed message.
func metricRaw(v float64) json.RawMessage {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s, _ := metricJSON(v).(string)
		return json.RawMessage(`"` + s + `"`)
	}
	return json.RawMessage(pyfmt.Float(v))
}

// pyNumber is a float written as Python's json module writes it (repr:
// 3.0, not 3), so that a float parameter or metric stays a float.
type pyNumber float64

// MarshalJSON implements json.Marshaler.
func (n pyNumber) MarshalJSON() ([]byte, error) { return []byte(pyfmt.Float(float64(n))), nil }

func paramJSON(v any) any {
	switch x := v.(type) {
	case float64:
		return metricJSON(x)
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = paramJSON(it)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			out[k] = paramJSON(it)
		}
		return out
	}
	return v
}

// annotationsJSON renders annotation layers as the SDK's image metadata.
func annotationsJSON(ls []Layer) []cometoffline.Layer {
	out := make([]cometoffline.Layer, 0, len(ls))
	for _, l := range ls {
		var data []cometoffline.Annotation
		for _, a := range l.Data {
			score := a.Score
			data = append(data, cometoffline.Annotation{Label: a.Label, Score: &score, Boxes: a.Boxes, Points: a.Points})
		}
		out = append(out, cometoffline.Layer{Name: l.Name, Data: data})
	}
	return out
}

// toJSON marshals with sorted keys (Go sorts map keys) and compact
// separators, as the SDK writes messages.
func toJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
