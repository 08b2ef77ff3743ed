package mlflow_test

import (
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/sync/mlflow"
)

// TestConfigFromEnv: the MLFLOW_* variables as MLflow's client reads
// them; each wrong setting is one line that says what to set, without
// the secret.
func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := mlflow.ConfigFromEnv(env("MLFLOW_TRACKING_URI", "https://mlflow.example.com/prefix/", "MLFLOW_TRACKING_USERNAME", "u",
		"MLFLOW_TRACKING_PASSWORD", "p", "MLFLOW_TRACKING_TOKEN", "t", "MLFLOW_TRACKING_INSECURE_TLS", "True", "MLFLOW_EXPERIMENT_NAME", "exp", "MLFLOW_RUN", "r"))
	if err != nil || c.TrackingURI != "https://mlflow.example.com/prefix" || c.Username != "u" || c.Password != "p" || c.Token != "t" || !c.Insecure || c.Experiment != "exp" || c.RunName != "r" {
		t.Fatalf("%+v %v", c, err)
	}
	if d := mlflow.New(c, mlflow.Options{}).Destination(); d != "mlflow:https://mlflow.example.com/prefix/exp" {
		t.Errorf("destination %q", d)
	}
	for _, tc := range []struct {
		env  func(string) string
		want string
	}{
		{env(), "set MLFLOW_TRACKING_URI"},
		{env("MLFLOW_TRACKING_URI", "./mlruns"), "--to mlflow-dir -o ./mlruns"},
		{env("MLFLOW_TRACKING_URI", "file:///data/mlruns"), "--to mlflow-dir -o /data/mlruns"},
		{env("MLFLOW_TRACKING_URI", "databricks"), `"databricks" is not supported`},
		{env("MLFLOW_TRACKING_URI", "databricks://profile"), `scheme "databricks" is not supported`},
		{env("MLFLOW_TRACKING_URI", "http://admin:s3cret@mlflow:5000"), "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead"},
		{env("MLFLOW_TRACKING_URI", "http://mlflow:5000", "MLFLOW_TRACKING_INSECURE_TLS", "maybe"), "set it to true or false"},
	} {
		_, err := mlflow.ConfigFromEnv(tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line with %q and no secret", tc.env("MLFLOW_TRACKING_URI"), err, tc.want)
		}
	}
}
