package clearmloffline

import "encoding/json"

// Files of a session folder (offline-<id>/, or its zip).
const (
	// FileTask holds the task (Task).
	FileTask = "task.json"
	// FileMetrics holds the events, one JSON array of Event per line.
	FileMetrics = "metrics.jsonl"
	// FileLog holds the console log events (type "log").
	FileLog = "log.jsonl"
	// DirData holds the files the events and artifacts point at.
	DirData = "data"
	// DirModels holds the output models' weights, by file name.
	DirModels = "models"
	// FolderPrefix starts the name of a session folder and its task id.
	FolderPrefix = "offline-"
)

// Event types: an event's "type".
const (
	EventScalar     = "training_stats_scalar"
	EventDebugImage = "training_debug_image"
	EventPlot       = "plot"
	EventLog        = "log"
)

// SingleValueIter is the iteration ClearML files single values under.
const SingleValueIter = -2147483648 // math.MinInt32

// Task is the part of task.json a session's reader and writer share; a
// reader keeps the file itself whole.
type Task struct {
	Comment             string                      `json:"comment"`
	Execution           *Execution                  `json:"execution,omitempty"`
	Hyperparams         map[string]map[string]Param `json:"hyperparams,omitempty"`
	ID                  string                      `json:"id"`
	Name                string                      `json:"name"`
	OfflineFolder       string                      `json:"offline_folder"`
	OfflineOutputModels []json.RawMessage           `json:"offline_output_models"`
	Output              struct{}                    `json:"output"`
	ProjectName         string                      `json:"project_name"`
	// Runtime holds the task's runtime properties: free-form (the SDK's
	// and the user's keys, among them the schemas.Marker* names).
	Runtime    map[string]any `json:"runtime"`
	SystemTags []string       `json:"system_tags"`
	Tags       []string       `json:"tags"`
	Type       string         `json:"type"`
}

// Param is one hyperparameter of a section (ParamsItem).
type Param struct {
	Description string `json:"description"`
	Name        string `json:"name"`
	Section     string `json:"section"`
	Type        string `json:"type,omitempty"`
	Value       string `json:"value"`
}

// Execution is task.json's "execution": its artifacts.
type Execution struct {
	Artifacts []Artifact `json:"artifacts,omitempty"`
}

// Artifact is one artifact of a task.
type Artifact struct {
	ContentSize int64  `json:"content_size"`
	Key         string `json:"key"`
	Mode        string `json:"mode"`
	// Name is what some SDK versions write beside or instead of Key.
	Name      string    `json:"name,omitempty"`
	Timestamp int64     `json:"timestamp"`
	Type      string    `json:"type"`
	TypeData  *TypeData `json:"type_data,omitempty"`
	URI       string    `json:"uri"`
}

// TypeData is an artifact's content type and preview.
type TypeData struct {
	ContentType string `json:"content_type"`
	Preview     string `json:"preview"`
}

// OutputModel is one entry of offline_output_models: where the SDK found
// the weights (their file name is the name under DirModels).
type OutputModel struct {
	Weights struct {
		WeightsFilename string `json:"weights_filename"`
	} `json:"weights"`
}

// Event is one event of metrics.jsonl or log.jsonl, as read.
type Event struct {
	Type       string   `json:"type"`
	Task       string   `json:"task"`
	Timestamp  int64    `json:"timestamp"`
	Iter       *int64   `json:"iter"`
	Metric     string   `json:"metric"`
	Variant    string   `json:"variant"`
	Value      *float64 `json:"value"`
	Key        string   `json:"key"`
	URL        string   `json:"url"`
	PlotStr    string   `json:"plot_str"`
	ModelEvent bool     `json:"model_event"`
	// Log events.
	Level string `json:"level"`
	Msg   string `json:"msg"`
}
