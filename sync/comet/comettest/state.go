package comettest

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
)

// Experiment is a snapshot of one experiment's stored state.
type Experiment struct {
	// Key is the server-assigned experiment key (32 lowercase hex digits).
	Key string
	// Name is experimentName at create, or the last log-other "Name".
	Name      string
	Workspace string
	Project   string
	// Others holds the logged others, last write wins. Values are stored
	// in their string form: a JSON string as is, a number as its JSON
	// literal, a boolean as "true"/"false".
	Others map[string]string
	// OthersLog is every log-other write, in arrival order.
	OthersLog []Other
	// Params holds the logged parameters, last write wins.
	Params map[string]Param
	// ParamWrites counts parameter writes, including overwrites.
	ParamWrites int
	// Metrics is every metric point in arrival order; re-sent points are
	// kept as duplicates.
	Metrics []Metric
	// Tags is the set of tags in first-insertion order.
	Tags []string
	// Output is every console line in arrival order; re-sent lines are
	// kept as duplicates.
	Output []OutputLine
	// Assets are the uploaded assets in upload order (an overwrite
	// replaces an entry in place).
	Assets []Asset
	// StartMillis is the creation time, or the last startTimeMillis set.
	StartMillis int64
	// EndMillis is the last endTimeMillis set, nil if never set.
	EndMillis *int64
	// Alive is true from creation until update-status sets isAlive=false.
	Alive bool
	// HasCrashed and Error are the last update-status values.
	HasCrashed bool
	Error      string
	// StatusUpdates counts update-status calls.
	StatusUpdates int
}

// Other is one log-other write.
type Other struct {
	Key string
	// Value is the string form of the logged value (see Experiment.Others).
	Value     string
	Timestamp int64
}

// Param is one logged parameter.
type Param struct {
	Name string
	// Value is the JSON-decoded value: string, float64, bool or nil;
	// []any for a list sent in a parameter batch.
	Value any
	Step  *int64
	// Context is the optional context sent with the parameter.
	Context   string
	Timestamp int64
}

// Metric is one logged metric point.
type Metric struct {
	Name string
	// Value is a float64, or one of the strings "NaN", "Infinity",
	// "-Infinity".
	Value     any
	Step      *int64
	Epoch     *int64
	Context   string
	Timestamp int64
}

// OutputLine is one console line of write/experiment/output.
type OutputLine struct {
	Output string
	Stderr bool
	// Offset is the line's position as the client numbered it.
	Offset int64
	// Timestamp is localTimestamp (Unix milliseconds), or the arrival
	// time when absent.
	Timestamp int64
	// Context is the request's runContext ("" for none).
	Context string
}

// Asset is one uploaded asset.
type Asset struct {
	// ID is the server-assigned asset id (32 lowercase hex digits); an
	// overwrite keeps it.
	ID       string
	FileName string
	// Type is the asset type ("asset", "image", "confusion-matrix",
	// "model-element", ...).
	Type         string
	Step         *int64
	Epoch        *int64
	Context      string
	GroupingName string
	Overwrite    bool
	// Metadata is the raw JSON of the "metadata" form part, or "".
	Metadata string
	Size     int64
	// SHA256 is the lowercase hex SHA-256 of Data.
	SHA256    string
	Data      []byte
	Extension string
	// Timestamp is the upload time in Unix milliseconds.
	Timestamp int64
}

// project is one stored project.
type project struct {
	id, name, workspace, description string
	public                           bool
}

// exp is one stored experiment with bookkeeping the snapshot lacks.
type exp struct {
	Experiment
	projectID  string
	paramOrder []string
	otherOrder []string
	models     map[string]string // groupingName → experimentModelId
	modelOrder []string
}

func cloneInt(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (e *exp) snapshot() Experiment {
	x := e.Experiment
	x.Others = maps.Clone(e.Others)
	x.OthersLog = append([]Other(nil), e.OthersLog...)
	x.Params = make(map[string]Param, len(e.Params))
	for k, p := range e.Params {
		p.Step = cloneInt(p.Step)
		if l, ok := p.Value.([]any); ok {
			p.Value = slices.Clone(l)
		}
		x.Params[k] = p
	}
	x.Metrics = make([]Metric, len(e.Metrics))
	for i, m := range e.Metrics {
		m.Step, m.Epoch = cloneInt(m.Step), cloneInt(m.Epoch)
		x.Metrics[i] = m
	}
	x.Tags = append([]string(nil), e.Tags...)
	x.Output = append([]OutputLine(nil), e.Output...)
	x.Assets = make([]Asset, len(e.Assets))
	for i, a := range e.Assets {
		a.Step, a.Epoch = cloneInt(a.Step), cloneInt(a.Epoch)
		a.Data = append([]byte(nil), a.Data...)
		x.Assets[i] = a
	}
	x.EndMillis = cloneInt(e.EndMillis)
	return x
}

// stringForm renders a decoded JSON scalar the way Comet stores it.
func stringForm(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// plainValue converts json.Number to float64; other values pass through.
func plainValue(v any) any {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		if err != nil {
			return n.String()
		}
		return f
	}
	return v
}
