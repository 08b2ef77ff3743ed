package export

import (
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// Scalar is an exported scalars row: the archive's row with the run id and
// the metric's unified name.
type Scalar struct {
	// RunID is the run's id (also the run= partition).
	RunID string `parquet:"run_id,dict" json:"run_id"`
	// Metric is the unified name: the same quantity has the same name in
	// every Ultralytics version and in YOLOv5 ("metrics/mAP50(B)" for
	// YOLOv5's "metrics/mAP_0.5", "lr/pg0" for "x/lr0").
	Metric string `parquet:"metric,dict" json:"metric"`
	// MetricOriginal is the name as the source wrote it.
	MetricOriginal string     `parquet:"metric_original,dict" json:"metric_original"`
	Group          string     `parquet:"group,dict" json:"group"`
	Epoch          int64      `parquet:"epoch" json:"epoch"`
	Step           *int64     `parquet:"step,optional" json:"step,omitempty"`
	Value          float64    `parquet:"value" json:"value"`
	WallTime       *time.Time `parquet:"wall_time,optional,timestamp(millisecond)" json:"wall_time,omitempty"`
	Origin         string     `parquet:"origin,dict" json:"origin"`
	Line           int64      `parquet:"line" json:"line"`
}

func scalar(runID string, s schemas.ScalarRow) Scalar {
	return Scalar{RunID: runID, Metric: UnifiedMetric(s.Metric), MetricOriginal: s.Metric, Group: s.Group, Epoch: s.Epoch,
		Step: s.Step, Value: s.Value, WallTime: s.WallTime, Origin: s.Origin, Line: s.Line}
}

// unified maps YOLOv5 and early names to Ultralytics 8.x names.
var unified = map[string]string{
	"metrics/precision":    "metrics/precision(B)",
	"metrics/recall":       "metrics/recall(B)",
	"metrics/mAP_0.5":      "metrics/mAP50(B)",
	"metrics/mAP_0.5:0.95": "metrics/mAP50-95(B)",
	"x/lr0":                "lr/pg0",
	"x/lr1":                "lr/pg1",
	"x/lr2":                "lr/pg2",
}

// UnifiedMetric returns the name a metric has in current Ultralytics
// releases: YOLOv5's names are mapped, surrounding spaces (the padded
// headers of Ultralytics before 8.3.9) removed; other names are kept.
func UnifiedMetric(name string) string {
	name = strings.TrimSpace(name)
	if u, ok := unified[name]; ok {
		return u
	}
	return name
}
