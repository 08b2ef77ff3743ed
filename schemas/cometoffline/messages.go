package cometoffline

import "encoding/json"

// Files of the zip; the payload files sit beside them under the names the
// file_upload messages give.
const (
	// FileExperiment holds the experiment's metadata (Experiment).
	FileExperiment = "experiment.json"
	// FileMessages holds one Message per line.
	FileMessages = "messages.json"
)

// Message types: the "type" of a messages.json line.
const (
	TypeMetric         = "metric_msg"
	TypeParameter      = "parameter_msg"
	TypeLogOther       = "log_other"
	TypeStandardOutput = "standard_output"
	TypeFileUpload     = "file_upload"
	// TypeWsMsg is the legacy form that carried metrics, params, others
	// and the types of LegacyFields in one payload.
	TypeWsMsg = "ws_msg"
	// Types with no table of their own, kept whole by capture and written
	// back as they were.
	TypeSystemDetails     = "system_details"
	TypeGitMetadata       = "git_metadata"
	TypeInstalledPackages = "installed_packages"
	TypeFileName          = "file_name"
)

// Upload types: file_upload's "upload_type".
const (
	UploadVisualization   = "visualization"
	UploadAsset           = "asset"
	UploadModelElement    = "model-element"
	UploadConfusionMatrix = "confusion-matrix"
)

// Experiment is experiment.json.
type Experiment struct {
	CustomerErrorMessage  *string  `json:"customer_error_message"`
	CustomerErrorReported bool     `json:"customer_error_reported"`
	OfflineID             string   `json:"offline_id"`
	ProjectName           *string  `json:"project_name"`
	ResumeStrategy        string   `json:"resume_strategy"`
	StartTime             int64    `json:"start_time"`
	StopTime              int64    `json:"stop_time"`
	Tags                  []string `json:"tags"`
	Workspace             *string  `json:"workspace"`
}

// Message is one line of messages.json, as written: Payload is one of the
// payload types below (or, for a message kept whole, its own JSON
// object).
type Message struct {
	Payload any    `json:"payload"`
	Type    string `json:"type"`
}

// Line is one line of messages.json, as read: every payload decodes into
// the one Payload type, in a single pass.
type Line struct {
	Type    string   `json:"type"`
	Payload *Payload `json:"payload"`
}

// Payload holds the payload fields a reader needs from any message, in
// the current and the legacy ws_msg forms (comet-api.md §5.4, §5.5).
type Payload struct {
	LocalTimestamp int64   `json:"local_timestamp"`
	Context        *string `json:"context"`
	Metric         *Metric `json:"metric"`
	Param          *Param  `json:"param"`
	Params         *Param  `json:"params"`
	// log_other: "key" and "value"; legacy ws_msg log_other: {"key", "val"}.
	Key      *string         `json:"key"`
	Value    json.RawMessage `json:"value"`
	LogOther *struct {
		Key string          `json:"key"`
		Val json.RawMessage `json:"val"`
	} `json:"log_other"`
	// standard_output; legacy ws_msg: "stdout" and "stderr".
	Output *string `json:"output"`
	Stderr any     `json:"stderr"`
	Stdout *string `json:"stdout"`
	// file_upload. The additional params differ by upload type and by
	// SDK version: read as the free-form object they are.
	FilePath   string         `json:"file_path"`
	UploadType string         `json:"upload_type"`
	Additional map[string]any `json:"additional_params"`
	Metadata   *Metadata      `json:"metadata"`
}

// Metric is a metric_msg's "metric".
type Metric struct {
	Epoch       *int64          `json:"epoch"`
	MetricName  string          `json:"metricName"`
	MetricValue json.RawMessage `json:"metricValue"`
	Step        *int64          `json:"step"`
}

// Param is a parameter_msg's "param" (a scalar) or "params" (a list).
type Param struct {
	ParamName  string          `json:"paramName"`
	ParamValue json.RawMessage `json:"paramValue"`
	Source     string          `json:"source,omitempty"`
	Step       *int64          `json:"step"`
}

// MetricPayload is a metric_msg's payload. The SDK leaves out a null
// context.
type MetricPayload struct {
	Context        string  `json:"context,omitempty"`
	LocalTimestamp int64   `json:"local_timestamp"`
	Metric         *Metric `json:"metric"`
}

// ParameterPayload is a parameter_msg's payload: Param for a scalar,
// Params for a list.
type ParameterPayload struct {
	Context        string `json:"context,omitempty"`
	LocalTimestamp int64  `json:"local_timestamp"`
	Param          *Param `json:"param,omitempty"`
	Params         *Param `json:"params,omitempty"`
}

// LogOtherPayload is a log_other's payload.
type LogOtherPayload struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// OutputPayload is a standard_output's payload.
type OutputPayload struct {
	Context        *string `json:"context"`
	LocalTimestamp int64   `json:"local_timestamp"`
	Output         string  `json:"output"`
	Stderr         bool    `json:"stderr"`
}

// UploadPayload is a file_upload's payload.
type UploadPayload struct {
	AdditionalParams *UploadParams `json:"additional_params"`
	Clean            bool          `json:"clean"`
	FilePath         string        `json:"file_path"`
	LocalTimestamp   int64         `json:"local_timestamp"`
	Metadata         *Metadata     `json:"metadata"`
	UploadType       string        `json:"upload_type"`
}

// UploadParams are a file_upload's "additional_params" as the SDK writes
// them for images (figName, figCounter, imageId), models (groupingName),
// confusion matrices and assets (fileName, assetId, type).
type UploadParams struct {
	AssetID string  `json:"assetId,omitempty"`
	Context *string `json:"context"`
	// Epoch is omitted when nil; a nil *int64 in it is written as null
	// (a confusion matrix always has the key, an asset only with a
	// value).
	Epoch        any    `json:"epoch,omitempty"`
	Extension    string `json:"extension"`
	FigCounter   *int   `json:"figCounter,omitempty"`
	FigName      string `json:"figName,omitempty"`
	FileName     string `json:"fileName,omitempty"`
	GroupingName string `json:"groupingName,omitempty"`
	ImageID      string `json:"imageId,omitempty"`
	Overwrite    bool   `json:"overwrite"`
	Step         *int64 `json:"step"`
	Type         string `json:"type,omitempty"`
}

// Metadata is a file_upload's "metadata": an image's annotation layers.
type Metadata struct {
	Annotations []Layer `json:"annotations"`
}

// Layer is one annotation layer of an image.
type Layer struct {
	Data []Annotation `json:"data"`
	Name string       `json:"name"`
}

// Annotation is one object of a layer: boxes as [x, y, w, h] in pixels,
// polygons as flat [x0, y0, x1, y1, ...] lists, a label and a score.
type Annotation struct {
	Boxes  [][]float64 `json:"boxes,omitempty"`
	Label  string      `json:"label"`
	Points [][]float64 `json:"points,omitempty"`
	Score  *float64    `json:"score"`
}

// LegacyFields are the ws_msg fields other than metric, param and
// log_other, in the SDK uploader's order, with the message type each
// becomes. Key is the payload key of the current form; "" when the
// legacy value (an object) is the current payload itself.
var LegacyFields = []struct{ Field, Type, Key string }{
	{"html", "html", "html"}, {"htmlOverride", "htmlOverride", "htmlOverride"}, {"graph", "graph", "graph"},
	{"code", "code", "code"}, {"fileName", TypeFileName, "file_name"}, {"env_details", TypeSystemDetails, ""},
	{"installed_packages", TypeInstalledPackages, "installed_packages"}, {"os_packages", "os_packages", "os_packages"},
	{"gpu_static_info", "gpu_static_info", "gpu_static_info"}, {"git_meta", TypeGitMetadata, TypeGitMetadata},
	{"log_dependency", "log_dependency", ""}, {"log_system_info", "system_info", "system_info"},
}
