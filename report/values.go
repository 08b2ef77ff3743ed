package report

import (
	"math"
	"strings"

	"github.com/yoloarchive/yoloarchive/convert/export"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// Goal says whether a metric is better high ("max") or low ("min"); ""
// for metrics without one (learning rates, time).
func Goal(name string) string {
	switch {
	case strings.HasPrefix(name, "metrics/"):
		return "max"
	case strings.HasSuffix(name, "_loss") || strings.HasSuffix(name, "/loss"):
		return "min"
	}
	return ""
}

// Value is one metric of one run: its best value (for metrics with a
// goal) and the epoch of the first best, and its final value and epoch.
type Value struct {
	// Metric is the unified name (YOLOv5's metrics/mAP_0.5 is
	// metrics/mAP50(B), as export names it); Original the archive's, when
	// it differs.
	Metric   string
	Original string
	// Goal is Goal(Metric).
	Goal string
	// Best and BestEpoch are nil for a metric without a goal or with no
	// value but NaN.
	Best       *float64
	BestEpoch  *int64
	Final      float64
	FinalEpoch int64
}

// Values summarises scalar rows by metric, in order of first appearance:
// the best is the first row of the best value (NaN is never best), the
// final value the last row. inspect A B… and the report both use it.
func Values(rows []schemas.ScalarRow) []Value {
	idx := map[string]int{}
	var out []Value
	for _, r := range rows {
		name := export.UnifiedMetric(r.Metric)
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, Value{Metric: name, Goal: Goal(name)})
			if name != r.Metric {
				out[i].Original = r.Metric
			}
		}
		m := &out[i]
		m.Final, m.FinalEpoch = r.Value, r.Epoch
		if m.Goal == "" || math.IsNaN(r.Value) {
			continue
		}
		if m.Best == nil || (m.Goal == "max" && r.Value > *m.Best) || (m.Goal == "min" && r.Value < *m.Best) {
			v, e := r.Value, r.Epoch
			m.Best, m.BestEpoch = &v, &e
		}
	}
	return out
}

// VersionText says which Ultralytics version wrote the run: exact from
// the weights, else the range inferred from the files.
func VersionText(r schemas.RunRow) string {
	switch {
	case r.UltralyticsVersion != nil:
		return *r.UltralyticsVersion + " (from the weights)"
	case r.VersionMin != nil && r.VersionMax != nil && *r.VersionMin == *r.VersionMax:
		return *r.VersionMin + " (inferred from the files)"
	case r.VersionMin != nil:
		return *r.VersionMin + " to " + *r.VersionMax + " (inferred from the files)"
	case r.SourceKind == schemas.SourceYOLOv5Train || r.Producer == schemas.ProducerYOLOv5:
		return "YOLOv5"
	}
	return "unknown"
}
