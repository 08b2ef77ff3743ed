package schemas

// Trackers a gap affects (GapRow.Affects).
const (
	TrackerClearML = "clearml"
	TrackerComet   = "comet"
)

// GapRow records something a live run would have logged, or something in
// the source, that the archive does not hold, and why: a row of the "gaps"
// table. Nothing is dropped silently; inspect prints these rows.
type GapRow struct {
	// Item names what is missing, e.g. "confusion_matrix_values".
	Item string `parquet:"item" json:"item"`
	// Reason says why it is missing.
	Reason string `parquet:"reason" json:"reason"`
	// Affects lists the trackers whose replay lacks the item.
	Affects []string `parquet:"affects,list" json:"affects,omitempty"`
	// Hint says how to recover it, when that is possible.
	Hint string `parquet:"hint" json:"hint"`
}
