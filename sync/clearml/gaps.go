package clearml

import "github.com/yoloarchive/yoloarchive/schemas"

// gapItems are the gap items that matter to a ClearML replay: what
// Ultralytics' ClearML callback logs (callback-mapping.md part A) that an
// archive can lack.
var gapItems = schemas.NewGapSet(
	schemas.GapModelInfo, schemas.GapFinalValidationMetrics, schemas.GapPerEpochValidationImages,
	schemas.GapConsoleAndSystem, schemas.GapEpochTime, schemas.GapFitness,
	schemas.GapDataset, schemas.GapClassNames, schemas.GapModel, schemas.GapWeights,
	schemas.GapSettings, schemas.GapScalars,
	schemas.GapSessionLines, schemas.GapSessionLogLines, schemas.GapSessionEvents, schemas.GapSessionImage,
	schemas.GapSessionAsset, schemas.GapSessionArtifact, schemas.GapSessionTaskFields,
)

// Gaps reports whether a gap item matters to ClearML (sync.Kind.Gaps):
// the items above, and a Comet session's messages that ClearML has no
// counterpart for.
func Gaps(item string) bool { return gapItems.Has(item) || schemas.IsCometMessageGap(item) }
