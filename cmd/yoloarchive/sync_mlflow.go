package main

import (
	"os"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
)

// mlflowReplayer builds the MLflow destinations: the tracking server named
// by MLFLOW_TRACKING_URI (credentials from MLFLOW_TRACKING_USERNAME and
// MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN), or a file store
// (mlflow-dir, written to -o, default ./mlruns).
func mlflowReplayer(c *SyncCmd, store *ysync.Store) (ysync.Target, *ysync.Store, error) {
	opts := mlflow.Options{Experiment: c.Project, RunName: c.Name, Version: c.Version}
	if c.To == "mlflow-dir" {
		out := c.Out
		if out == "" {
			out = "mlruns"
		}
		if opts.Experiment == "" {
			opts.Experiment = os.Getenv("MLFLOW_EXPERIMENT_NAME")
		}
		if opts.RunName == "" {
			opts.RunName = os.Getenv("MLFLOW_RUN")
		}
		// A file store is rewritten idempotently: no checkpoints.
		return mlflow.NewDir(out, opts), nil, nil
	}
	cfg, err := mlflow.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	return mlflow.New(cfg, opts), store, nil
}
