// Package mlflow maps archived runs to MLflow, the way Ultralytics' MLflow
// callback (ultralytics/utils/callbacks/mlflow.py) logs a run live.
//
// [BuildPlan] is the callback's contract as a pure function: from a run's
// tables to the params, tags, metric points, artifacts, times and status
// the callback would have logged. The metric points are not held: the
// plan generates them from the scalars table on each pass
// ([Plan.Points]), so that a sync's memory does not grow with them.
// [Destination] replays a plan to a tracking server (sync --to mlflow),
// [Dir] writes it as a file store (sync --to mlflow-dir, with
// [filestore]); mlflowtest is a fake tracking server.
package mlflow
