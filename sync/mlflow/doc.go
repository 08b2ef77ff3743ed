// Package mlflow maps archived runs to MLflow, the way Ultralytics' MLflow
// callback (ultralytics/utils/callbacks/mlflow.py) logs a run live.
//
// [BuildPlan] is the callback's contract as a pure function: from a run's
// tables to the params, tags, metric points, artifacts, times and status
// the callback would have logged. Replaying a plan to a tracking server
// (sync --to mlflow) or writing it as a file store (sync --to mlflow-dir,
// with [filestore]) waits for the replay engine of issue 17; the
// sub-packages filestore (the mlruns/ format) and mlflowtest (a fake
// tracking server) are the groundwork for both.
package mlflow
