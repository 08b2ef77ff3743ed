package schemas

// Markers are the names under which a replay records yoloarchive's own
// facts on a tracker's run, and under which a capture of that run (a
// session written by an offline writer, or downloaded) finds them again.
// Both sides use these constants, so capture and replay cannot disagree.
const (
	// MarkerRunID carries the archive's run id (a ClearML runtime
	// property, a Comet other): a second sync finds the run by it, and a
	// capture of the replayed session keeps the id.
	MarkerRunID = "yoloarchive_run_id"
	// MarkerArchive carries the digest of the archive a ClearML task was
	// replayed from (a runtime property).
	MarkerArchive = "yoloarchive_archive"
	// MarkerGaps carries the archive's gap items, comma-separated (a
	// ClearML runtime property, a Comet other), so that capturing the
	// replayed session keeps them.
	MarkerGaps = "yoloarchive_gaps"
	// MarkerFinal is the Comet other a REST sync logs ("true") once it
	// ended the experiment with the run's final state; a capture skips it.
	MarkerFinal = "yoloarchive_final"
	// TagRunID is the MLflow tag that carries the archive's run id, for
	// dedupe (runs/search with tags.`yoloarchive.run_id` = '<id>').
	TagRunID = "yoloarchive.run_id"
)
