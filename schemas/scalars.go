package schemas

import "time"

// ScalarRow is one point of one metric: a row of the "scalars" table.
type ScalarRow struct {
	// Metric is the metric's original name, e.g. "metrics/mAP50-95(B)",
	// "train/box_loss", "lr/pg0", "time", "x/lr0" (YOLOv5).
	Metric string `parquet:"metric,dict" json:"metric"`
	// Epoch is the 1-based training epoch the point belongs to.
	Epoch int64 `parquet:"epoch" json:"epoch"`
	// Step is the tracker step, when the source recorded one (offline
	// tracker sessions); null for points read from results.csv.
	Step *int64 `parquet:"step,optional" json:"step,omitempty"`
	// Group is the tracker's grouping of the metric when the source
	// recorded one: the ClearML title ("train", "val", "Epoch Time") or the
	// Comet context. Empty for results.csv. Added in format 1.1.
	Group string `parquet:"group,dict" json:"group,omitempty"`
	// Value is the value exactly as parsed from the source (NaN and ±Inf
	// are kept).
	Value float64 `parquet:"value" json:"value"`
	// WallTime is when the point was logged, when known.
	WallTime *time.Time `parquet:"wall_time,optional,timestamp(millisecond)" json:"wall_time,omitempty"`
	// SessionEpoch is the epoch exactly as a Comet session logged it (a
	// YOLOv5 session counts from 0); null when the session logged none,
	// and for other sources. Added in format 1.3.
	SessionEpoch *int64 `parquet:"session_epoch,optional" json:"session_epoch,omitempty"`
	// Origin names the source the point was read from, e.g. "results.csv".
	Origin string `parquet:"origin,dict" json:"origin"`
	// Line is the 1-based line of the source file, 0 when not applicable.
	Line int64 `parquet:"line" json:"line"`
}
