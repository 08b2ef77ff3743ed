package comet

import (
	"errors"
	"fmt"
	"testing"
)

func TestLookupAnswers(t *testing.T) {
	for _, tc := range []struct {
		name             string
		err              error
		project, expGone bool
	}{
		{"newer server", &APIError{Status: 404, Msg: "Project not found"}, true, true},
		{"404 without a body", &APIError{Status: 404, Msg: "<html>Not Found</html>"}, true, true},
		{"older server", &APIError{Status: 400, Msg: "Project not found"}, true, true},
		{"older server, other wording", &APIError{Status: 400, Msg: "Invalid experiment key"}, false, true},
		{"unknown workspace", &APIError{Status: 400, Code: 90219, Msg: "Workspace not found"}, false, true},
		{"no access", &APIError{Status: 403, Code: 90210, Msg: "No write access"}, false, true},
		{"bad key", &APIError{Status: 401, Code: 90212, Msg: "Invalid API key"}, false, false},
		{"forbidden", &APIError{Status: 403, Msg: "Forbidden"}, false, false},
		{"server error", &APIError{Status: 500, Msg: "Project not found"}, false, false},
		{"wrapped", fmt.Errorf("lookup: %w", &APIError{Status: 404}), true, true},
		{"not an answer", errors.New("Comet at x is unreachable"), false, false},
		{"none", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := projectMissing(tc.err); got != tc.project {
				t.Errorf("projectMissing = %v, want %v", got, tc.project)
			}
			if got := experimentGone(tc.err); got != tc.expGone {
				t.Errorf("experimentGone = %v, want %v", got, tc.expGone)
			}
		})
	}
}
