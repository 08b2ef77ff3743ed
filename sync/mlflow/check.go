package mlflow

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Check is the preflight: the server answers as MLflow, takes the
// credentials, and each experiment (the configured one, else those the
// archives name) exists or will be created. It sends only reads, with the
// preflight's short timeouts.
func (r *Destination) Check(ctx context.Context, projects []string) (*ysync.Check, error) {
	copts := ysync.PreflightClientOptions()
	copts.InsecureSkipVerify = r.cfg.Insecure
	copts.TLSConfig = r.cfg.tls
	c := &client{cfg: r.cfg, http: ysync.NewClient(copts)}
	names := projects
	if r.opts.Experiment != "" {
		names = []string{r.opts.Experiment}
	}
	if len(names) == 0 {
		// The Default experiment always exists: it checks the answer and
		// the credentials.
		names = []string{"Default"}
	}
	chk := &ysync.Check{}
	for _, name := range names {
		var out struct {
			Experiment experimentJSON `json:"experiment"`
		}
		err := c.get(ctx, "experiments/get-by-name", url.Values{"experiment_name": {name}}, &out)
		switch {
		case notFound(err):
			chk.Notes = append(chk.Notes, fmt.Sprintf("experiment %q does not exist yet: the first sync creates it", name))
		case err != nil:
			return chk, r.destinationError(err)
		case out.Experiment.LifecycleStage == "deleted":
			return chk, &ysync.DestinationError{Cause: ysync.CauseRefused,
				Msg: fmt.Sprintf("%s: experiment %q is deleted: restore it (mlflow experiments restore --experiment-id %s) or choose another with MLFLOW_EXPERIMENT_NAME or --project", r.Destination(), name, out.Experiment.ExperimentID)}
		default:
			chk.Notes = append(chk.Notes, fmt.Sprintf("experiment %q exists (id %s)", name, out.Experiment.ExperimentID))
		}
	}
	return chk, nil
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
