package clearml_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/synctest/conformance"
)

// TestConformance runs the destination suite against the fake ClearML
// server.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T, badKey bool) conformance.Fake {
			srv := clearmltest.New()
			t.Cleanup(srv.Close)
			cfg := clearml.Config{APIHost: srv.API.URL, WebHost: srv.WebURL(), FilesHost: srv.Files.URL,
				AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
			if badKey {
				cfg.SecretKey = conformance.Secret
			}
			return conformance.Fake{Dest: clearml.New(cfg, ysync.Options{}), Faults: srv.Faults,
				Runs: func() int { return len(srv.Tasks()) }, Snapshot: func() []string { return clearmlSnapshot(srv) }}
		},
		At: func(url string) (ysync.Destination, error) {
			return clearml.New(clearml.Config{APIHost: url, WebHost: url, FilesHost: url, AccessKey: "K", SecretKey: conformance.Secret}, ysync.Options{}), nil
		},
	})
}

// clearmlSnapshot describes the fake's tasks, their events (console
// lines aside), models and files, task ids replaced by "<task>".
func clearmlSnapshot(srv *clearmltest.Server) []string {
	var out []string
	ids := map[string]string{srv.Files.URL: "<files>"}
	for _, task := range srv.Tasks() {
		ids[task.ID] = "<task>"
	}
	anon := func(s string) string {
		for id, r := range ids {
			s = strings.ReplaceAll(s, id, r)
		}
		return s
	}
	for _, task := range srv.Tasks() {
		tags := append([]string{}, task.Tags...)
		sort.Strings(tags)
		sys := append([]string{}, task.SystemTags...)
		sort.Strings(sys)
		out = append(out, fmt.Sprintf("task %s %s tags=%v system=%v comment=%q", task.Name, task.Status, tags, sys, anon(task.Comment)))
		for sec, items := range task.Hyperparams {
			for name, p := range items {
				out = append(out, fmt.Sprintf("task %s param %s/%s=%q", task.Name, sec, name, p.Value))
			}
		}
		for k, v := range task.Runtime {
			out = append(out, fmt.Sprintf("task %s runtime %s=%q", task.Name, k, v))
		}
		for _, m := range task.Models {
			out = append(out, fmt.Sprintf("task %s model %s", task.Name, m.Name))
		}
		for _, e := range srv.Events(task.ID) {
			if e.Type == "log" {
				continue
			}
			out = append(out, fmt.Sprintf("task %s event %s %d %s/%s value=%v key=%s", task.Name, e.Type, e.Iter, e.Metric, e.Variant, e.Value, anon(e.Key)))
		}
	}
	for _, m := range srv.Models() {
		out = append(out, fmt.Sprintf("model %s %s %s", m.Name, m.Framework, anon(m.URI)))
	}
	for _, p := range srv.FilePaths() {
		data, _ := srv.File(p)
		out = append(out, fmt.Sprintf("file %s %d", anon(p), len(data)))
	}
	return out
}
