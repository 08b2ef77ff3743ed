// Package comet replays archives into Comet: over the REST API v2 (--to
// comet) or as an offline experiment zip that `comet upload` accepts (--to
// comet-offline). Both routes send the same Log, built from the archive by
// Build so that it matches what Ultralytics' Comet callback logs live
// (docs/sync-comet.md lists every difference and why).
package comet

import (
	"context"
	"time"
)

// Log is what Ultralytics' Comet callback would have logged for one run,
// in the callback's order: the experiment's project, name and times and
// the ordered calls. The REST replayer and the offline writer both send a
// Log; the fidelity tests compare it with the callback's recorded calls.
type Log struct {
	// Workspace and Project place the experiment (Project as the
	// callback's project_name; Workspace empty means the key's default).
	Workspace, Project string
	// Name is the experiment name (the run name).
	Name string
	// Unnamed leaves the "Name" other out of an offline zip: a captured
	// Comet session that did not name its experiment is written again
	// without a name (Comet names it on upload, as it would have).
	Unnamed bool
	// Key is the experiment key an offline zip asks for; empty means
	// OfflineID(RunID). A captured Comet session keeps its own.
	Key string
	// RunID is the archive's run id; it is logged as the "other"
	// yoloarchive_run_id so a second sync finds the experiment.
	RunID string
	// Tags are added to the experiment.
	Tags []string
	// Gaps are the archive's gap items, logged as the other
	// yoloarchive_gaps so that a capture of the replay keeps them.
	Gaps string
	// Start and End are the run's original start and end times.
	Start, End time.Time
	// Calls are the callback's calls in order. A Log of Build holds them
	// all. The Log a replay sends (see buildStream) holds here only the calls it
	// does not read from the big tables: its metric calls are generated
	// from the scalars table by gen, as they are written or sent.
	Calls []Call

	// gen, when set, yields every call of the Log in order, Calls among
	// them, reading the metric calls from the archive as it goes (see
	// each). It never holds more than an epoch's calls.
	gen func(ctx context.Context, yield func(Call) error) error
}

// each calls fn with every call of the Log in order, i counting them
// from 0: the generated ones too. It stops at fn's first error.
func (l *Log) each(ctx context.Context, fn func(i int, c Call) error) error {
	if l.gen == nil {
		for i, c := range l.Calls {
			if err := fn(i, c); err != nil {
				return err
			}
		}
		return nil
	}
	i := 0
	return l.gen(ctx, func(c Call) error {
		err := fn(i, c)
		i++
		return err
	})
}

// then makes the Log yield the calls after what it yields already (and
// keeps them in Calls).
func (l *Log) then(calls ...Call) {
	l.Calls = append(l.Calls, calls...)
	if inner := l.gen; inner != nil {
		l.gen = func(ctx context.Context, yield func(Call) error) error {
			if err := inner(ctx, yield); err != nil {
				return err
			}
			for _, c := range calls {
				if err := yield(c); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

// collect turns a generated Log into one that holds every call.
func (l *Log) collect(ctx context.Context) error {
	if l.gen == nil {
		return nil
	}
	var all []Call
	if err := l.each(ctx, func(_ int, c Call) error { all = append(all, c); return nil }); err != nil {
		return err
	}
	l.Calls, l.gen = all, nil
	return nil
}

// Kinds of Call, named after the comet_ml.Experiment methods.
const (
	KindParameters      = "log_parameters"
	KindOthers          = "log_others"
	KindOther           = "log_other"
	KindMetrics         = "log_metrics"
	KindModel           = "log_model"
	KindImage           = "log_image"
	KindConfusionMatrix = "log_confusion_matrix"
	KindTable           = "log_table"
	KindAsset           = "log_asset"
	// KindOutput is console output (standard_output) of a captured
	// session; KindRaw any other session message, written as it was.
	KindOutput = "standard_output"
	KindRaw    = "raw"
)

// Call is one callback call. Kind selects the fields that are set.
type Call struct {
	Kind string
	// Params (log_parameters) and Others (log_others, log_other) keep
	// their keys in the callback's order; values are JSON-compatible
	// (string, float64, int64, bool, nil, []any).
	Params []KV
	Others []KV
	// Metrics (log_metrics) with their Step and Epoch.
	Metrics []Metric
	// Step is the call's step; nil means the callback passed step=None.
	Step *int64
	// Epoch is the call's epoch (log_metrics, log_confusion_matrix); nil
	// when not passed.
	Epoch *int64
	// Time is when the live call would have happened (best estimate).
	Time time.Time
	// File is the file logged (log_model, log_image, log_table,
	// log_asset).
	File *File
	// Name is the image name (log_image) or the model name (log_model).
	Name string
	// Overwrite is log_model's overwrite flag.
	Overwrite bool
	// Annotations are log_image's annotation layers.
	Annotations []Layer
	// Matrix and Labels are log_confusion_matrix's matrix and labels;
	// MaxCategories its max_categories.
	Matrix        [][]float64
	Labels        []string
	MaxCategories int
	// Context is the SDK's context of a captured session's metric or
	// image ("" for none).
	Context string
	// AssetType is the upload type of a captured session's asset when it
	// is not a plain asset (e.g. "dataframe", "text-sample").
	AssetType string
	// Output and Stderr are KindOutput's text and stream.
	Output string
	Stderr bool
	// RawType and RawPayload are a KindRaw message.
	RawType    string
	RawPayload map[string]any
	// Upload is the file_upload payload a captured Comet session recorded
	// for the file (additional_params, metadata, upload_type, time): the
	// offline writer writes it again as it was, with the zip's file name.
	Upload map[string]any
}

// KV is one ordered key/value pair.
type KV struct {
	Key   string
	Value any
}

// Metric is one metric value.
type Metric struct {
	Name  string
	Value float64
}

// File is a file the archive holds.
type File struct {
	// Name is the file name Comet shows (e.g. "best.pt", "labels.jpg").
	Name string
	// Digest is the archive blob's digest; Size its size in bytes.
	Digest string
	Size   int64
	// Data replaces the blob for files built on the fly (e.g. re-encoded
	// images); nil means read the blob.
	Data []byte
}

// Layer is one annotation layer of an image (ground truth or
// prediction), as log_image's annotations argument.
type Layer struct {
	Name string
	Data []Annotation
}

// Annotation is one object of a layer: boxes as [x, y, w, h] in pixels,
// polygons as flat [x0, y0, x1, y1, ...] lists, a label and a score.
type Annotation struct {
	Boxes  [][]float64
	Points [][]float64
	Label  string
	Score  float64
}

// Int64 returns a pointer to v, for Call.Step and Call.Epoch.
func Int64(v int64) *int64 { return &v }
