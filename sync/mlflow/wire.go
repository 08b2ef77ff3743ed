package mlflow

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// The answers' JSON, as the server's message_to_json renders the protos.

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// number is a proto int64 (a JSON number, or a string as proto3 JSON
// allows).
type number int64

func (n *number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) {
			return fmt.Errorf("not an integer: %s", b)
		}
		v = int64(f)
	}
	*n = number(v)
	return nil
}

// double is a proto double: a number, or "NaN", "Infinity", "-Infinity".
type double float64

func (d *double) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "NaN":
		*d = double(math.NaN())
		return nil
	case "Infinity":
		*d = double(math.Inf(1))
		return nil
	case "-Infinity":
		*d = double(math.Inf(-1))
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*d = double(f)
	return nil
}

type metricJSON struct {
	Key       string `json:"key"`
	Value     double `json:"value"`
	Timestamp number `json:"timestamp"`
	Step      number `json:"step"`
}

type runInfoJSON struct {
	RunID          string  `json:"run_id"`
	RunName        string  `json:"run_name"`
	ExperimentID   string  `json:"experiment_id"`
	Status         string  `json:"status"`
	StartTime      number  `json:"start_time"`
	EndTime        *number `json:"end_time"`
	ArtifactURI    string  `json:"artifact_uri"`
	LifecycleStage string  `json:"lifecycle_stage"`
}

type runJSON struct {
	Info runInfoJSON `json:"info"`
	Data struct {
		Params []keyValue `json:"params"`
		Tags   []keyValue `json:"tags"`
	} `json:"data"`
}

func (r *runJSON) tag(key string) (string, bool) {
	for _, t := range r.Data.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

type experimentJSON struct {
	ExperimentID   string `json:"experiment_id"`
	Name           string `json:"name"`
	LifecycleStage string `json:"lifecycle_stage"`
}

type fileJSON struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize number `json:"file_size"`
}

// metricBody is a metric as log-batch takes it: the value a JSON number,
// or the string proto JSON uses for NaN and the infinities.
func metricBody(m filestore.Metric) map[string]any {
	var v any = m.Value
	switch {
	case math.IsNaN(m.Value):
		v = "NaN"
	case math.IsInf(m.Value, 1):
		v = "Infinity"
	case math.IsInf(m.Value, -1):
		v = "-Infinity"
	}
	return map[string]any{"key": m.Key, "value": v, "timestamp": m.Timestamp, "step": m.Step}
}
