package comet_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// upload replays an offline zip into the fake server the way `comet
// upload` replays it (comet-api.md §5.9), through the REST equivalents of
// its calls: create, messages in order, tags, times, end.
func upload(t *testing.T, srv *comettest.Server, zipPath string) {
	t.Helper()
	entries := readZip(t, zipPath)
	var meta struct {
		ProjectName string   `json:"project_name"`
		StartTime   int64    `json:"start_time"`
		StopTime    int64    `json:"stop_time"`
		Tags        []string `json:"tags"`
	}
	if err := json.Unmarshal(entries["experiment.json"], &meta); err != nil {
		t.Fatal(err)
	}
	call := func(path string, body any, out any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.RESTBase()+path, bytes.NewReader(b))
		req.Header.Set("Authorization", srv.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
		}
		if out != nil {
			json.Unmarshal(raw, out)
		}
	}
	var created struct{ ExperimentKey string }
	call("write/experiment/create", map[string]any{"workspaceName": srv.Workspace, "projectName": meta.ProjectName}, &created)
	key := created.ExperimentKey
	sc := bufio.NewScanner(bytes.NewReader(entries["messages.json"]))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m struct {
			Type    string         `json:"type"`
			Payload map[string]any `json:"payload"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		p := m.Payload
		switch m.Type {
		case "log_other":
			call("write/experiment/log-other", map[string]any{"experimentKey": key, "key": p["key"], "value": p["value"]}, nil)
		case "parameter_msg":
			prm, _ := p["param"].(map[string]any)
			if prm == nil {
				prm = p["params"].(map[string]any)
				b, _ := json.Marshal(prm["paramValue"])
				prm["paramValue"] = string(b)
			}
			call("write/experiment/parameter", map[string]any{"experimentKey": key, "parameterName": prm["paramName"], "parameterValue": prm["paramValue"]}, nil)
		case "metric_msg":
			mm := p["metric"].(map[string]any)
			body := map[string]any{"experimentKey": key, "metricName": mm["metricName"], "metricValue": mm["metricValue"], "timestamp": p["local_timestamp"]}
			for _, k := range []string{"step", "epoch"} {
				if mm[k] != nil {
					body[k] = mm[k]
				}
			}
			call("write/experiment/metric", body, nil)
		case "file_upload":
			ap := p["additional_params"].(map[string]any)
			q := url.Values{"experimentKey": {key}}
			switch p["upload_type"] {
			case "visualization":
				q.Set("type", "image")
				q.Set("fileName", fmt.Sprint(ap["figName"], ".", ap["extension"]))
			default:
				q.Set("type", fmt.Sprint(p["upload_type"]))
				q.Set("fileName", fmt.Sprint(ap["fileName"]))
			}
			if ap["extension"] != nil {
				q.Set("extension", fmt.Sprint(ap["extension"]))
			}
			for _, k := range []string{"step", "epoch", "groupingName"} {
				if ap[k] != nil {
					q.Set(k, fmt.Sprint(ap[k]))
				}
			}
			if ap["groupingName"] != nil {
				q.Set("overwrite", fmt.Sprint(ap["overwrite"]))
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			if p["metadata"] != nil {
				b, _ := json.Marshal(p["metadata"])
				mw.WriteField("metadata", string(b))
			}
			fw, _ := mw.CreateFormFile("file", q.Get("fileName"))
			fw.Write(entries[p["file_path"].(string)])
			mw.Close()
			req, _ := http.NewRequest("POST", srv.RESTBase()+"write/experiment/upload-asset?"+q.Encode(), &body)
			req.Header.Set("Authorization", srv.APIKey)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("upload %s: %d %s", q.Get("fileName"), resp.StatusCode, raw)
			}
		default:
			t.Fatalf("unexpected message %s", m.Type)
		}
	}
	if len(meta.Tags) > 0 {
		call("write/experiment/tags", map[string]any{"experimentKey": key, "addedTags": meta.Tags}, nil)
	}
	call("write/experiment/set-start-end-time", map[string]any{"experimentKey": key, "startTimeMillis": meta.StartTime, "endTimeMillis": meta.StopTime}, nil)
	call("write/experiment/update-status", map[string]any{"experimentKey": key, "isAlive": false, "hasCrashed": false}, nil)
}

// TestOffline_UploadEqualsREST: a zip replayed the way `comet upload`
// replays it gives the same experiment as the REST route.
func TestOffline_UploadEqualsREST(t *testing.T) {
	for _, run := range []string{"segment-savejson", "detect"} {
		archive := synctest.Capture(t, run)
		rest := newEnv(t)
		if r := rest.sync(t, context.Background(), archive, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
			t.Fatal(r.Error)
		}
		viaZip := comettest.New()
		defer viaZip.Close()
		defer noInvalidRequests(t, viaZip)
		res := writeZip(t, archive, t.TempDir())
		upload(t, viaZip, res.Output)
		norm := func(s string) string {
			var keep []string
			for _, l := range strings.Split(s, "\n") {
				if !strings.HasPrefix(l, "other Name =") {
					keep = append(keep, l)
				}
			}
			return strings.Join(keep, "\n")
		}
		if a, b := norm(state(t, rest.srv)), norm(state(t, viaZip)); a != b {
			t.Errorf("%s: zip upload differs from REST:\n%s\n---\n%s", run, b, a)
		}
	}
}
