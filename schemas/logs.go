package schemas

import "time"

// LogRow is one console record of a tracker session (a ClearML log.jsonl
// event, a Comet standard_output message): a row of the "logs" table,
// added in format 1.1. Run directories have none.
type LogRow struct {
	// Time is when the record was logged, when known.
	Time *time.Time `parquet:"time,optional,timestamp(millisecond)" json:"time,omitempty"`
	// Level is the ClearML level ("info", "error", ...) or, for Comet,
	// "stdout" or "stderr".
	Level string `parquet:"level,dict" json:"level"`
	// Worker is the ClearML worker (host) name; empty for Comet.
	Worker string `parquet:"worker,dict" json:"worker,omitempty"`
	// Message is the text.
	Message string `parquet:"message" json:"message"`
	// Origin and Line say where the record was read (file, 1-based line).
	Origin string `parquet:"origin,dict" json:"origin"`
	Line   int64  `parquet:"line" json:"line"`
}

// FromFormat adjusts a run row read from an archive of format 1.minor:
// parquet-go reads a list column the file lacks as [""], so the tags of an
// archive older than the column are cleared.
func (r *RunRow) FromFormat(minor int) {
	if minor < ColumnsSince["run.tags"] {
		r.Tags = nil
	}
}

// ColumnsSince lists the columns and tables added after format 1.0, by
// "table" or "table.column", with the minor version that added them.
// Readers of an older archive treat them as empty.
var ColumnsSince = map[string]int{
	"scalars.group":     1,
	"images.group":      1,
	"images.series":     1,
	"images.kind":       1,
	"images.wall_time":  1,
	"images.record":     1,
	"assets.record":     1,
	"run.tags":          1,
	"run.session_id":    1,
	"logs":              1,
	"summary.wall_time": 1,
	// 1.3: exact Comet session round trips.
	"scalars.session_epoch": 3,
	"params.item_types":     3,
	"params.wall_time":      3,
	"run.producer":          3,
	// 1.4: per-file modification times, for restore.
	"images.mtime": 4,
	"assets.mtime": 4,
}
