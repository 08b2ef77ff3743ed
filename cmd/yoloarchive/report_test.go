package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pageData reads the data of a report page (its #report-data JSON).
func pageData(t *testing.T, path string) map[string]any {
	t.Helper()
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("%s: no report data", path)
	}
	var d map[string]any
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReport_CLI: a report of an archive and a chain given as its links
// (one run, with the values compare gives for a capture of the finished
// run); a damaged archive fails the report with one line naming it and
// leaves nothing.
func TestReport_CLI(t *testing.T) {
	dir := t.TempDir()
	detect := "../../convert/report/testdata/detect-savejson.tar.zst"
	links, runDir := followChain(t)
	whole := filepath.Join(dir, "whole.tar.zst")
	if code, _, stderr := runCLI(t, "capture", "-q", runDir, "-o", whole); code != 0 {
		t.Fatalf("capture: %s", stderr)
	}
	out := filepath.Join(dir, "out", "report.html")
	code, stdout, stderr := runCLI(t, append([]string{"report", "-o", out, detect}, links...)...)
	if code != 0 || !strings.HasPrefix(stdout, "2 runs -> "+out+" (") || !strings.Contains(stdout, " images with 380 annotations, ") {
		t.Fatalf("report: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	d := pageData(t, out)
	runs := d["runs"].([]any)
	chainRun := runs[1].(map[string]any)
	if len(runs) != 2 || int(chainRun["links"].(float64)) != len(links) {
		t.Fatalf("%d runs, the chain's with %v links; want 2, %d", len(runs), chainRun["links"], len(links))
	}
	rep, _, _, err := compare(t.Context(), []string{whole})
	if err != nil {
		t.Fatal(err)
	}
	vals := chainRun["values"].([]any)
	if len(vals) != len(rep.Runs[0].Metrics) {
		t.Fatalf("chain: %d metrics, compare of the finished run %d", len(vals), len(rep.Runs[0].Metrics))
	}
	for i, m := range rep.Runs[0].Metrics {
		v := vals[i].(map[string]any)
		if v["metric"] != m.Metric || v["final"] != float64(m.Final) || (m.Best != nil && (v["best"] != float64(*m.Best) || v["best_epoch"] != float64(*m.BestEpoch))) {
			t.Errorf("chain %s: %v; compare of the finished run: %+v", m.Metric, v, m)
		}
	}

	code, stdout, _ = runCLI(t, "report", "--json", detect, "-o", out)
	var res struct {
		Status string `json:"status"`
		Runs   int    `json:"runs"`
		Bytes  int64  `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 0 || res.Status != "ok" || res.Runs != 1 || res.Bytes == 0 {
		t.Errorf("--json: exit %d, %+v (%v): %s", code, res, err, stdout)
	}

	bad := filepath.Join(dir, "bad.tar.zst")
	os.WriteFile(bad, []byte("not an archive"), 0o644)
	out2 := filepath.Join(dir, "bad", "new", "report.html")
	code, stdout, stderr = runCLI(t, "report", detect, bad, "-o", out2)
	if code != exitFailure || stdout != "" || !strings.HasPrefix(stderr, "failed: "+bad+": ") {
		t.Errorf("damaged archive: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, "bad")); !os.IsNotExist(err) {
		t.Errorf("a failed report left the folder it made for -o (%v)", err)
	}
	code, _, stderr = runCLI(t, "report", detect, "-o", dir)
	if code != exitFailure || !strings.Contains(stderr, dir+" is a directory: name the HTML file to write") {
		t.Errorf("-o DIR: exit %d, stderr %q", code, stderr)
	}
}
