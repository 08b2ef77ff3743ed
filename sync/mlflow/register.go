package mlflow

import (
	"os"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// noTags is why --tags is refused for MLflow.
const noTags = "Ultralytics' MLflow callback logs no tags, and --to mlflow and mlflow-dir add none"

func init() {
	// The tracking server named by MLFLOW_TRACKING_URI (credentials from
	// MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or
	// MLFLOW_TRACKING_TOKEN); MLflow has no flag group: its client reads
	// only these variables, and so does the callback.
	ysync.Register(ysync.Kind{Name: "mlflow", Tracker: "mlflow", Gaps: Gaps, NoTags: noTags,
		Help: "an MLflow tracking server's REST API, from MLFLOW_TRACKING_URI and the other MLFLOW_* variables",
		New: func(o ysync.Options, _ any) (ysync.Target, error) {
			cfg, err := ConfigFromEnv(os.Getenv)
			if err != nil {
				return nil, err
			}
			return New(cfg, Options{Experiment: o.Project, RunName: o.Name, Version: o.Version}), nil
		}})
	// A file store, rewritten idempotently (no checkpoints).
	ysync.Register(ysync.Kind{Name: "mlflow-dir", Tracker: "mlflow", Gaps: Gaps, Offline: true, DefaultOut: "mlruns", NoTags: noTags,
		Help: "an MLflow file store for 'mlflow ui --backend-store-uri DIR'",
		New: func(o ysync.Options, _ any) (ysync.Target, error) {
			opts := Options{Experiment: o.Project, RunName: o.Name, Version: o.Version}
			if opts.Experiment == "" {
				opts.Experiment = os.Getenv("MLFLOW_EXPERIMENT_NAME")
			}
			if opts.RunName == "" {
				opts.RunName = os.Getenv("MLFLOW_RUN")
			}
			return NewDir(o.Out, opts), nil
		}})
}
