package schemas

import "strings"

// GapRow records something a live run would have logged, or something in
// the source, that the archive does not hold, and why: a row of the "gaps"
// table. Nothing is dropped silently; inspect prints these rows.
//
// A row states a fact about the archive; it does not say which trackers
// it matters to. Each sync destination says which gap items matter to it
// (sync.Kind.Gaps), so a new destination needs no new archives.
type GapRow struct {
	// Item names what is missing, e.g. "confusion_matrix_values" (the
	// Gap* constants).
	Item string `parquet:"item" json:"item"`
	// Reason says why it is missing.
	Reason string `parquet:"reason" json:"reason"`
	// Affects is the column in which archives before format 1.5 named the
	// trackers a gap affects. Deprecated: since 1.5 it is written empty
	// and readers ignore it (the destinations decide by Item); the column
	// stays so that 1.4 readers still verify 1.5 archives.
	Affects []string `parquet:"affects,list" json:"-"`
	// Hint says how to recover it, when that is possible.
	Hint string `parquet:"hint" json:"hint"`
}

// Gap items (GapRow.Item): docs/gaps.md says what each one means.
const (
	// What an Ultralytics training run never writes to disk.
	GapModelInfo                = "model_info"
	GapFinalValidationMetrics   = "final_validation_metrics"
	GapConfusionMatrixValues    = "confusion_matrix_values"
	GapPerEpochValidationImages = "per_epoch_validation_images"
	GapConsoleAndSystem         = "console_and_system"
	GapEpochTime                = "epoch_time"
	GapBatchSize                = "batch_size"
	GapUltralyticsVersion       = "ultralytics_version"
	// What the run directory or the dataset lacked at capture.
	GapTrainImageCount  = "train_image_count"
	GapDataset          = "dataset"
	GapClassNames       = "class_names"
	GapPredictionImages = "prediction_images"
	GapMaskPolygons     = "mask_polygons"
	GapGroundTruth      = "ground_truth"
	GapModel            = "model"
	GapWeights          = "weights"
	GapSettings         = "settings"
	GapScalars          = "scalars"
	GapSkippedFiles     = "skipped_files"
	GapResumedRows      = "resumed_rows"
	// What a tracker session lacked or held that has no table.
	GapSessionLines      = "session_lines"
	GapSessionLogLines   = "session_log_lines"
	GapSessionEvents     = "session_events"
	GapSessionImage      = "session_image"
	GapSessionAsset      = "session_asset"
	GapSessionArtifact   = "session_artifact"
	GapSessionTaskFields = "session_task_fields"
	GapFitness           = "fitness"
	// What a sync could not send (reported by sync, never stored).
	GapSupersededPoints = "superseded_points"
)

// sessionGaps are the session_* items that are not Comet message types.
var sessionGaps = map[string]bool{
	GapSessionLines: true, GapSessionLogLines: true, GapSessionEvents: true, GapSessionImage: true,
	GapSessionAsset: true, GapSessionArtifact: true, GapSessionTaskFields: true,
}

// GapCometMessage is the item of a gap about a Comet session's messages
// of one type ("session_<type>", spaces as "_"): messages kept as params
// of section comet:<type> that only a Comet destination writes back.
func GapCometMessage(msgType string) string {
	return "session_" + strings.Join(strings.Fields(msgType), "_")
}

// IsCometMessageGap reports whether item names a gap made by
// GapCometMessage.
func IsCometMessageGap(item string) bool {
	return strings.HasPrefix(item, "session_") && len(item) > len("session_") && !sessionGaps[item]
}

// GapSet is a set of gap items: the ones that matter to a destination.
type GapSet map[string]bool

// NewGapSet returns the set of items.
func NewGapSet(items ...string) GapSet {
	s := make(GapSet, len(items))
	for _, it := range items {
		s[it] = true
	}
	return s
}

// Has reports whether the set holds item.
func (s GapSet) Has(item string) bool { return s[item] }
