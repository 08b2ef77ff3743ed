package mlflow

import "github.com/yoloarchive/yoloarchive/schemas"

// gapItems are the gap items that matter to an MLflow replay: what
// Ultralytics' MLflow callback logs (mlflow.md §1: the training arguments
// as params, the epoch metrics including the final validation of best.pt,
// weights/ and the top-level files as artifacts) that an archive can
// lack. The callback logs no model information, console, system metrics,
// per-epoch images or dataset details, so those gaps do not matter here.
var gapItems = schemas.NewGapSet(
	schemas.GapFinalValidationMetrics, schemas.GapModel, schemas.GapWeights,
	schemas.GapSettings, schemas.GapScalars,
	schemas.GapSessionLines, schemas.GapSessionEvents, schemas.GapSessionImage,
	schemas.GapSessionAsset, schemas.GapSessionArtifact,
)

// Gaps reports whether a gap item matters to MLflow (sync.Kind.Gaps).
func Gaps(item string) bool { return gapItems.Has(item) }
