package comet

import "github.com/yoloarchive/yoloarchive/schemas"

// gapItems are the gap items that matter to a Comet replay: what
// Ultralytics' Comet callback logs (callback-mapping.md part B) that an
// archive can lack. A Comet session's own messages do not: a Comet
// destination writes them back (the REST sync reports those it cannot
// send itself).
var gapItems = schemas.NewGapSet(
	schemas.GapModelInfo, schemas.GapFinalValidationMetrics, schemas.GapConfusionMatrixValues,
	schemas.GapConsoleAndSystem, schemas.GapBatchSize, schemas.GapTrainImageCount,
	schemas.GapDataset, schemas.GapClassNames, schemas.GapPredictionImages, schemas.GapMaskPolygons,
	schemas.GapGroundTruth, schemas.GapModel, schemas.GapWeights, schemas.GapSettings, schemas.GapScalars,
	schemas.GapSessionLines, schemas.GapSessionLogLines, schemas.GapSessionEvents, schemas.GapSessionImage,
	schemas.GapSessionAsset, schemas.GapSessionArtifact, schemas.GapSessionTaskFields,
)

// Gaps reports whether a gap item matters to Comet (sync.Kind.Gaps).
func Gaps(item string) bool { return gapItems.Has(item) }
