package report

import (
	"math"
	"strconv"
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
// goal) and the epoch of the first best, its first and final values, and
// its number of points.
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
	First      float64
	Final      float64
	FinalEpoch int64
	// Points counts the metric's rows.
	Points int
}

// Values summarises scalar rows by metric, in order of first appearance:
// the best is the first row of the best value (NaN is never best), the
// final value the last row. inspect, compare and the report use it (see
// [Tally] for rows read in batches).
func Values(rows []schemas.ScalarRow) []Value {
	var t Tally
	t.Add(rows)
	return t.Values()
}

// Tally computes [Values] over rows that arrive in batches (a table
// scanned batch by batch), holding one Value per metric, never the rows.
// The zero Tally is ready to use.
type Tally struct {
	idx  map[string]int
	vals []Value
}

// Add counts a batch of rows, in table order.
func (t *Tally) Add(rows []schemas.ScalarRow) {
	if t.idx == nil {
		t.idx = map[string]int{}
	}
	for _, r := range rows {
		name := export.UnifiedMetric(r.Metric)
		i, ok := t.idx[name]
		if !ok {
			i = len(t.vals)
			t.idx[name] = i
			t.vals = append(t.vals, Value{Metric: name, Goal: Goal(name), First: r.Value})
			if name != r.Metric {
				t.vals[i].Original = r.Metric
			}
		}
		m := &t.vals[i]
		m.Points++
		m.Final, m.FinalEpoch = r.Value, r.Epoch
		if m.Goal == "" || math.IsNaN(r.Value) {
			continue
		}
		if m.Best == nil || (m.Goal == "max" && r.Value > *m.Best) || (m.Goal == "min" && r.Value < *m.Best) {
			v, e := r.Value, r.Epoch
			m.Best, m.BestEpoch = &v, &e
		}
	}
}

// Values returns the metrics counted so far, in order of first
// appearance.
func (t *Tally) Values() []Value { return t.vals }

// Number is a value that may be NaN or infinite (a loss that
// overflowed): JSON has no such numbers, so those are the strings "NaN",
// "Infinity" and "-Infinity" (the report's page reads them with
// Number(); inspect and compare print them so). Other values are the
// shortest decimal that reads back as the same float64 ('g' format).
type Number float64

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
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
