package mlflow

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Check is the preflight: the server answers as MLflow and takes the
// credentials, which the lookup of each experiment (the configured one,
// else those the archives name, else "Default", which always exists)
// proves; a deleted one is refused. It sends only reads, with the
// preflight's short timeouts.
func (r *Destination) Check(ctx context.Context) ([]string, *ysync.Projects, error) {
	copts := ysync.PreflightClientOptions()
	copts.InsecureSkipVerify = r.cfg.Insecure
	copts.TLSConfig = r.cfg.tls
	c := &client{cfg: r.cfg, http: ysync.NewClient(copts)}
	find := func(ctx context.Context, name string) (bool, string, error) {
		var out struct {
			Experiment experimentJSON `json:"experiment"`
		}
		err := c.get(ctx, "experiments/get-by-name", url.Values{"experiment_name": {name}}, &out)
		switch {
		case notFound(err):
			return false, "", nil
		case err != nil:
			return false, "", r.destinationError(err)
		case out.Experiment.LifecycleStage == "deleted":
			return false, "", &ysync.DestinationError{Cause: ysync.CauseRefused,
				Msg: fmt.Sprintf("%s: experiment %q is deleted: restore it (mlflow experiments restore --experiment-id %s) or choose another with MLFLOW_EXPERIMENT_NAME or --project", r.Destination(), name, out.Experiment.ExperimentID)}
		}
		return true, fmt.Sprintf(" (id %s)", out.Experiment.ExperimentID), nil
	}
	return nil, &ysync.Projects{Noun: "experiment", Configured: r.opts.Experiment, Fallback: "Default", Find: find}, nil
}

// destinationError words a preflight failure as one line naming the
// server and what to set.
func (r *Destination) destinationError(err error) error {
	cause := ysync.Classify(err)
	msg := err.Error()
	switch cause {
	case ysync.CauseCredentials:
		msg = fmt.Sprintf("MLflow server %s refused the credentials: %s", r.cfg.base(), err)
	case ysync.CauseUnreachable:
		msg = fmt.Sprintf("MLflow server %s cannot be reached (%v): check MLFLOW_TRACKING_URI and the network", r.cfg.base(), reason(err))
	default:
		if cause == ysync.CauseNone {
			cause = ysync.CauseRefused
		}
		msg = fmt.Sprintf("MLflow server %s: %s", r.cfg.base(), err)
	}
	return &ysync.DestinationError{Cause: cause, Msg: msg, Err: err}
}

func reason(err error) string {
	var ne *ysync.NetError
	if errors.As(err, &ne) {
		return ne.Reason()
	}
	return err.Error()
}
