package schemas

import "time"

// SummaryRow is one single value of a run, such as a final metric, the
// fitness or model information: a row of the "summary" table.
type SummaryRow struct {
	// Key is the value's name, as the trackers' callbacks name it:
	// "metrics/mAP50-95(B)", "fitness", "model/parameters", ...
	Key string `parquet:"key" json:"key"`
	// Value is the value.
	Value float64 `parquet:"value" json:"value"`
	// Epoch is the 1-based epoch the value was taken from, when it came
	// from an epoch's row.
	Epoch *int64 `parquet:"epoch,optional" json:"epoch,omitempty"`
	// Exact is false when the value approximates what the live run logged
	// (for example final metrics taken from the best results.csv row
	// instead of the final best.pt validation).
	Exact bool `parquet:"exact" json:"exact"`
	// Origin says how the value was obtained.
	Origin string `parquet:"origin" json:"origin"`
	// WallTime is when a tracker session logged the value. Added in
	// format 1.1.
	WallTime *time.Time `parquet:"wall_time,optional,timestamp(millisecond)" json:"wall_time,omitempty"`
}
