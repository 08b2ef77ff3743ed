package mlflow_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/mlflowtest"
	"github.com/yoloarchive/yoloarchive/sync/synctest/conformance"
)

// TestConformance runs the destination suite against the fake MLflow
// server (basic auth, as behind mlflow's basic-auth app).
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T, badKey bool) conformance.Fake {
			srv := mlflowtest.New()
			srv.Auth = mlflowtest.AuthBasic
			t.Cleanup(srv.Close)
			cfg := mlflow.Config{TrackingURI: srv.URL, Username: srv.Username, Password: srv.Password}
			if badKey {
				cfg.Password = conformance.Secret
			}
			return conformance.Fake{Dest: mlflow.New(cfg, mlflow.Options{}), Faults: srv.Faults,
				Runs: func() int { return len(srv.Runs()) }, Snapshot: func() []string { return mlflowSnapshot(srv) }}
		},
		At: func(url string) (ysync.Destination, error) {
			return mlflow.New(mlflow.Config{TrackingURI: url, Username: "admin", Password: conformance.Secret}, mlflow.Options{}), nil
		},
	})
}

// mlflowSnapshot describes the fake's runs without their ids: experiment,
// name, status, times, params, tags, metric points (as a multiset) and
// artifacts by size and digest.
func mlflowSnapshot(srv *mlflowtest.Server) []string {
	exps := map[string]string{}
	for _, e := range srv.Experiments() {
		exps[e.ID] = e.Name
	}
	var out []string
	for _, r := range srv.Runs() {
		i := r.Info
		p := "run " + exps[i.ExperimentID] + "/" + i.RunName
		end := "open"
		if i.EndTime != nil {
			end = fmt.Sprint(*i.EndTime)
		}
		out = append(out, fmt.Sprintf("%s status=%s start=%d end=%s stage=%s", p, i.Status, i.StartTime, end, i.LifecycleStage))
		for k, v := range r.Params {
			out = append(out, fmt.Sprintf("%s param %s=%s", p, k, v))
		}
		for k, v := range r.Tags {
			out = append(out, fmt.Sprintf("%s tag %s=%s", p, k, v))
		}
		for k, ms := range r.Metrics {
			for _, m := range ms {
				out = append(out, fmt.Sprintf("%s metric %s step=%d ts=%d %v", p, k, m.Step, m.Timestamp, m.Value))
			}
		}
		for k, b := range r.Artifacts {
			out = append(out, fmt.Sprintf("%s artifact %s %d %x", p, k, len(b), sha256.Sum256(b)))
		}
	}
	return out
}
