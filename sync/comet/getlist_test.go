package comet

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// TestGetList: a metrics answer is decoded item by item; other fields are
// skipped, a null list has no items, and an answer that breaks off or is
// not JSON is a transient *ysync.AnswerError naming the endpoint.
func TestGetList(t *testing.T) {
	answers := map[string]string{
		"items":  `{"before":{"x":[1,{"y":2}]},"metrics":[{"metricName":"a","metricValue":1},{"metricName":"b","metricValue":"NaN"}],"after":"z"}`,
		"null":   `{"metrics":null,"other":1}`,
		"absent": `{"other":[]}`,
		"cut":    `{"metrics":[{"metricName":"a","metricValue":1},{"metricN`,
		"html":   `<html>proxy</html>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answers[r.URL.Query().Get("metricName")]))
	}))
	defer srv.Close()
	d, err := New(Config{APIKey: "k", URL: srv.URL + "/clientlib/"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &replay{Destination: d, http: ysync.NewClient(ysync.ClientOptions{RetryMax: 1})}
	for _, tc := range []struct {
		name  string
		names []string
		bad   bool
	}{
		{"items", []string{"a", "b"}, false},
		{"null", nil, false},
		{"absent", nil, false},
		{"cut", []string{"a"}, true},
		{"html", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := getList(context.Background(), s, "experiment/metrics/get-metric", url.Values{"metricName": {tc.name}}, "metrics", func(m serverMetric) error {
				got = append(got, m.MetricName)
				return nil
			})
			var ae *ysync.AnswerError
			if tc.bad != (err != nil) || tc.bad && (!errors.As(err, &ae) || !ysync.Transient(err)) {
				t.Fatalf("err %v, want an answer error: %v", err, tc.bad)
			}
			if len(got) != len(tc.names) || len(got) > 0 && got[0] != tc.names[0] {
				t.Errorf("items %q, want %q", got, tc.names)
			}
		})
	}
}
