package comettest

import (
	"net/http"
	"testing"
)

// TestLookupsOfWhatDoesNotExist: an unknown project or experiment key is
// an error, 404 or 400 by mode (comet-api.md §3), never an empty answer;
// an unknown workspace stays its own 400 in both modes.
func TestLookupsOfWhatDoesNotExist(t *testing.T) {
	for _, mode := range NotFoundModes {
		t.Run(mode.String(), func(t *testing.T) {
			s, c := newClient(t)
			s.NotFound = mode
			status := map[NotFound]int{NotFound404: 404, NotFound400: 400}[mode]
			key := c.create("exists", "e")
			for _, tc := range []struct{ path, msg string }{
				{"experiments?workspaceName=test-ws&projectName=nope", "Project not found"},
				{"experiments?projectId=0123456789abcdef0123456789abcdef", "Project not found"},
				{"project?workspaceName=test-ws&projectName=nope", "Project not found"},
				{"project?projectId=0123456789abcdef0123456789abcdef", "Project not found"},
				{"experiment/metadata?experimentKey=0123456789abcdef0123456789abcdef", "Experiment not found"},
				{"experiment/log-other?experimentKey=0123456789abcdef0123456789abcdef", "Experiment not found"},
				{"experiment/parameters?experimentKey=0123456789abcdef0123456789abcdef", "Experiment not found"},
				{"experiment/metrics/get-all?experimentKey=0123456789abcdef0123456789abcdef", "Experiment not found"},
				{"experiment/asset/list?experimentKey=0123456789abcdef0123456789abcdef", "Experiment not found"},
				{"experiment/tags?experimentKey=0123456789abcdef0123456789abcdef", "Experiment not found"},
				{"experiment/model?experimentKey=0123456789abcdef0123456789abcdef", "Experiment not found"},
			} {
				r := c.do(http.MethodGet, tc.path, nil)
				checkErr(t, r, tc.path, status, 0)
				if r.body["msg"] != tc.msg {
					t.Errorf("%s: msg %v, want %q", tc.path, r.body["msg"], tc.msg)
				}
			}
			r := c.do(http.MethodGet, "experiments?workspaceName=nope&projectName=exists", nil)
			checkErr(t, r, "unknown workspace", 400, CodeNoSuchWorkspace)
			r = c.ok("experiments?workspaceName=test-ws&projectName=exists", nil)
			if es, _ := r.body["experiments"].([]any); len(es) != 1 {
				t.Errorf("existing project: %s", r.raw)
			}
			if !s.DeleteExperiment(key) || s.DeleteExperiment(key) {
				t.Fatal("DeleteExperiment")
			}
			checkErr(t, c.do(http.MethodGet, "experiment/log-other?experimentKey="+key, nil), "deleted experiment", status, 0)
			// The project stays, now empty.
			r = c.ok("experiments?workspaceName=test-ws&projectName=exists", nil)
			if es, ok := r.body["experiments"].([]any); !ok || len(es) != 0 {
				t.Errorf("emptied project: %s", r.raw)
			}
		})
	}
}
