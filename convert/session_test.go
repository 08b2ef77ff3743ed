package convert_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	"github.com/yoloarchive/yoloarchive/schemas"
)

var sessionFolder = filepath.Join(fixtures, "detect-clearml", "clearml_offline_session", "offline-65072dc9b8014849a4dc396a0eb301ec")

// makeZip writes a zip of the given entries; a nil body makes a symlink.
func makeZip(t *testing.T, entries ...zipEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "session.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		switch {
		case e.raw != nil:
			w, err := zw.CreateRaw(e.raw)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.body))
		case e.link:
			h := &zip.FileHeader{Name: e.name}
			h.SetMode(os.ModeSymlink | 0o777)
			w, _ := zw.CreateHeader(h)
			w.Write([]byte(e.body))
		default:
			w, err := zw.Create(e.name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.body))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// zeros1MiB returns n entries of exactly 1 MiB of zeros: each is under
// the per-entry ratio check, together they are a zip bomb.
func zeros1MiB(n int) []zipEntry {
	body := strings.Repeat("\x00", 1<<20)
	var out []zipEntry
	for i := range n {
		out = append(out, zipEntry{name: fmt.Sprintf("data/%04d.bin", i), body: body})
	}
	return out
}

type zipEntry struct {
	name, body string
	link       bool
	raw        *zip.FileHeader
}

// leftovers counts the extraction folders in the temporary directory.
func leftovers(t *testing.T) int {
	m, _ := filepath.Glob(filepath.Join(os.TempDir(), "yoloarchive-session-*"))
	return len(m)
}

func TestSession_BadZips(t *testing.T) {
	task, err := os.ReadFile(filepath.Join(sessionFolder, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := os.ReadFile(filepath.Join(sessionFolder, "metrics.jsonl"))
	t.Setenv("TMPDIR", t.TempDir()) // extraction folders go here
	before := leftovers(t)
	for _, tc := range []struct {
		name    string
		entries []zipEntry
		want    string
	}{
		{"dotdot", []zipEntry{{name: "task.json", body: string(task)}, {name: "data/../../evil.txt", body: "x"}}, `entry "data/../../evil.txt": unsafe zip: it climbs out`},
		{"absolute", []zipEntry{{name: "task.json", body: string(task)}, {name: "/etc/evil", body: "x"}}, `entry "/etc/evil": unsafe zip`},
		{"symlink", []zipEntry{{name: "task.json", body: string(task)}, {name: "data/link", body: "/etc/passwd", link: true}}, `entry "data/link": unsafe zip: a link`},
		{"huge", []zipEntry{{name: "task.json", body: string(task)}, {raw: &zip.FileHeader{Name: "models/best.pt", Method: zip.Store, UncompressedSize64: 300 << 30, CompressedSize64: 300 << 30}, body: "x"}}, "declare more than"},
		{"bomb", []zipEntry{{name: "task.json", body: string(task)}, {raw: &zip.FileHeader{Name: "metrics.jsonl", Method: zip.Deflate, UncompressedSize64: 8 << 30, CompressedSize64: 4}, body: "abcd"}}, "a zip bomb"},
		{"many 1 MiB entries", append([]zipEntry{{name: "task.json", body: string(task)}}, zeros1MiB(100)...), "compress to"},
		{"lying size", []zipEntry{{name: "task.json", body: string(task)}, {raw: &zip.FileHeader{Name: "metrics.jsonl", Method: zip.Store, UncompressedSize64: 10, CompressedSize64: 3}, body: "abc"}}, `entry "metrics.jsonl"`},
		{"no task.json", []zipEntry{{name: "metrics.jsonl", body: string(metrics)}}, "without task.json"},
		{"broken task.json", []zipEntry{{name: "task.json", body: `{"id": "offline-1", "name": `}, {name: "metrics.jsonl", body: string(metrics)}}, "task.json: unexpected end of JSON input"},
		{"comet without experiment.json", []zipEntry{{name: "messages.json", body: "{}\n"}}, "experiment.json is missing"},
		{"comet without messages.json", []zipEntry{{name: "experiment.json", body: `{"offline_id":"abc"}`}}, "messages.json is missing"},
		{"comet bad experiment.json", []zipEntry{{name: "experiment.json", body: `{"offline_id":`}, {name: "messages.json", body: ""}}, "experiment.json: unexpected end"},
		{"neither", []zipEntry{{name: "notes.txt", body: "x"}}, "neither task.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zp := makeZip(t, tc.entries...)
			dst := filepath.Join(t.TempDir(), "out.tar.zst")
			_, err := convert.Capture(context.Background(), zp, dst, convert.Options{})
			if err == nil {
				t.Fatal("captured")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), zp) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line naming %s and saying %q", err, zp, tc.want)
			}
			if _, err := os.Stat(dst); err == nil {
				t.Error("an archive was left behind")
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(zp), "evil.txt")); err == nil {
				t.Error("the zip wrote outside its folder")
			}
		})
	}
	if n := leftovers(t); n != before {
		t.Errorf("%d extraction folders left behind", n-before)
	}
}

// TestSession_BrokenLine breaks the first of metrics.jsonl's two lines:
// the events of the second are kept, and the capture says how many lines
// it skipped, in its warnings and in a gap.
func TestSession_BrokenLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "offline-65072dc9b8014849a4dc396a0eb301ec")
	if err := os.CopyFS(dir, os.DirFS(sessionFolder)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "metrics.jsonl")
	data, _ := os.ReadFile(p)
	lines := strings.SplitAfter(string(data), "\n")
	lines[0] = lines[0][:len(lines[0])/2] + "\n"
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out.tar.zst")
	res, err := convert.Capture(context.Background(), dir, dst, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "metrics.jsonl: 1 broken lines or events skipped (first: line 1:") {
		t.Errorf("warnings %q", res.Warnings)
	}
	found := false
	for _, g := range res.Gaps {
		found = found || g.Item == "session_lines"
	}
	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Line 1 held the scalars, debug images and model single values;
	// line 2 the three plots and five final single values.
	scalars, _ := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	images, _ := archive.ReadTable[schemas.ImageRow](context.Background(), a, schemas.TableImages)
	summary, _ := archive.ReadTable[schemas.SummaryRow](context.Background(), a, schemas.TableSummary)
	if !found || len(scalars) != 0 || len(images) != 3 || len(summary) != 5 {
		t.Errorf("gap %v; kept from line 2: %d scalars, %d images, %d single values", found, len(scalars), len(images), len(summary))
	}
	for _, s := range scalars {
		if s.Line != 2 {
			t.Fatalf("scalar from line %d", s.Line)
		}
	}
}

func TestReadLines(t *testing.T) {
	in := "a\n\nbb\n" + strings.Repeat("x", 100) + "\ncc\nlast"
	var got []string
	var broken []int
	err := convert.ReadLines(strings.NewReader(in), 50, func(line []byte, n int) error {
		got = append(got, string(line)+"@"+string(rune('0'+n)))
		return nil
	}, func(n int, err error) { broken = append(broken, n) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a@1,bb@3,cc@5,last@6" || len(broken) != 1 || broken[0] != 4 {
		t.Errorf("lines %v, broken %v", got, broken)
	}
}

// TestSession_CometBrokenLines breaks lines in the middle of a Comet
// zip's messages.json: the lines after them are kept (the SDK's uploader
// stops at the first), and the capture says how many it skipped.
func TestSession_CometBrokenLines(t *testing.T) {
	msgs := strings.Join([]string{
		`{"type":"metric_msg","payload":{"local_timestamp":1764737714000,"context":null,"metric":{"metricName":"train/box_loss","metricValue":1.5,"step":2,"epoch":1}}}`,
		`{"type":"metric_msg","payload":{"local_timestamp":1764737714001,"metric":{"metricName":"train/box_loss","metricValue":`,
		`{"type":"file_upload","payload":{"file_path":"../../etc/passwd","upload_type":"asset","local_timestamp":1,"additional_params":null}}`,
		`{"type":"metric_msg","payload":{"local_timestamp":1764737714002,"context":null,"metric":{"metricName":"train/box_loss","metricValue":"NaN","step":4,"epoch":2}}}`,
		`{"type":"ws_msg","payload":{"local_timestamp":1764737714003,"log_other":{"key":"Name","val":"exp7"}}}`,
		`{"type":"parameter_msg","payload":{"local_timestamp":1764737714004,"param":{"paramName":"lr0","paramValue":0.01,"step":null,"source":"manual"}}}`,
	}, "\n") + "\n"
	zp := makeZip(t, zipEntry{name: "experiment.json", body: `{"offline_id":"0123456789abcdef0123456789abcdef","project_name":"p","start_time":1764737713000,"stop_time":1764737715000,"tags":["a"]}`},
		zipEntry{name: "messages.json", body: msgs})
	dst := filepath.Join(t.TempDir(), "out.tar.zst")
	res, err := convert.Capture(context.Background(), zp, dst, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "messages.json: 2 broken lines skipped (first: line 2:") {
		t.Errorf("warnings %q", res.Warnings)
	}
	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	scalars, _ := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	params, _ := archive.ReadTable[schemas.ParamRow](context.Background(), a, schemas.TableParams)
	runs, _ := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
	if len(scalars) != 2 || scalars[1].Line != 4 || scalars[1].Value == scalars[1].Value || *scalars[1].Step != 4 {
		t.Errorf("scalars %+v", scalars)
	}
	if len(params) != 2 || runs[0].Name != "exp7" || runs[0].SessionID != "0123456789abcdef0123456789abcdef" || runs[0].Tags[0] != "a" {
		t.Errorf("params %+v run %+v", params, runs[0])
	}
}

// TestCapture_EnrichFromSession merges the run's ClearML session (folder
// and zip) into the run directory's archive: the run keeps its id, the
// summary holds the session's exact single values, the console log is
// there, and the gaps the session fills are gone. A session of another
// run is refused.
func TestCapture_EnrichFromSession(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // extraction folders go here
	dir := filepath.Join(fixtures, "detect-clearml")
	plain, err := convert.Read(context.Background(), dir, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain.Close()
	for _, sess := range []string{filepath.Dir(sessionFolder), sessionFolder + ".zip"} {
		dst := filepath.Join(t.TempDir(), "out.tar.zst")
		res, err := convert.Capture(context.Background(), dir, dst, convert.Options{Sessions: []string{sess}})
		if err != nil {
			t.Fatal(err)
		}
		if res.RunID != plain.Info.RunID {
			t.Errorf("run id %s, the run directory's %s", res.RunID, plain.Info.RunID)
		}
		a, err := archive.Open(context.Background(), dst)
		if err != nil {
			t.Fatal(err)
		}
		summary, _ := archive.ReadTable[schemas.SummaryRow](context.Background(), a, schemas.TableSummary)
		logs, _ := archive.ReadTable[schemas.LogRow](context.Background(), a, schemas.TableLogs)
		gaps, _ := archive.ReadTable[schemas.GapRow](context.Background(), a, schemas.TableGaps)
		runs, _ := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
		a.Close()
		exact := 0
		for _, s := range summary {
			if !s.Exact {
				t.Errorf("summary %s is still approximate", s.Key)
			}
			exact++
		}
		if exact != 8 || len(logs) != 18 || runs[0].SessionID != "offline-65072dc9b8014849a4dc396a0eb301ec" || runs[0].SourceKind != schemas.SourceUltralyticsTrain {
			t.Errorf("%d exact values, %d log lines, run %+v", exact, len(logs), runs[0])
		}
		for _, g := range gaps {
			if g.Item == "model_info" || g.Item == "final_validation_metrics" {
				t.Errorf("gap %s is still there", g.Item)
			}
		}
	}
	_, err = convert.Read(context.Background(), filepath.Join(fixtures, "detect"), convert.Options{Sessions: []string{sessionFolder}})
	if err == nil || !strings.Contains(err.Error(), "the session is of another run") {
		t.Errorf("another run's session: %v", err)
	}
	_, err = convert.Read(context.Background(), sessionFolder, convert.Options{Sessions: []string{sessionFolder}})
	if err == nil || !strings.Contains(err.Error(), "is given twice") {
		t.Errorf("a session merged into itself: %v", err)
	}
	if n := leftovers(t); n != 0 {
		t.Errorf("%d extraction folders left", n)
	}
}

// TestSession_ReviewFindings covers inputs a review found mishandled: a
// one-character list setting, a linked folder leading out of the session,
// Windows weight paths, zips without offline_id, and control characters
// in message types.
func TestSession_ReviewFindings(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	task := func(extra string) string {
		return `{"id":"offline-0123456789abcdef0123456789abcdef","name":"run","project_name":"p","offline_folder":"/home/u/.clearml/cache/offline/offline-0123456789abcdef0123456789abcdef",` + extra + `}`
	}
	// A list setting of one character, and an artifact behind a link.
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644)
	dir := filepath.Join(t.TempDir(), "offline-0123456789abcdef0123456789abcdef")
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.Symlink(outside, filepath.Join(dir, "data", "sub"))
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	os.WriteFile(filepath.Join(dir, "models", "best.pt"), []byte("weights"), 0o644)
	os.WriteFile(filepath.Join(dir, "task.json"), []byte(task(`"hyperparams":{"General":{"x":{"name":"x","value":"[","type":"list"}}},
		"execution":{"artifacts":[{"name":"s","uri":"/home/u/.clearml/cache/offline/offline-0123456789abcdef0123456789abcdef/data/sub/secret.txt"}]},
		"offline_output_models":[{"weights":{"weights_filename":"C:\\Users\\me\\.clearml\\cache\\offline\\offline-x\\models\\best.pt"}}]`)), 0o644)
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(`[{"type":"evil\nsecond","task":"offline-0123456789abcdef0123456789abcdef"}]`), 0o644)
	r, err := convert.Read(context.Background(), dir, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, a := range r.Assets {
		if strings.Contains(a.FileName, "secret") {
			t.Errorf("a file behind a link was stored: %s", a.FileName)
		}
	}
	best := false
	for _, a := range r.Assets {
		best = best || a.Role == schemas.RoleWeightsBest
	}
	if !best {
		t.Error("the Windows weights path did not find models/best.pt")
	}
	for _, g := range r.Gaps {
		if strings.Contains(g.Reason, "\n") {
			t.Errorf("gap %s has a line break: %q", g.Item, g.Reason)
		}
	}
	// Comet zips without offline_id: different messages, different runs.
	ids := map[string]bool{}
	for _, m := range []string{"a", "b"} {
		zp := makeZip(t, zipEntry{name: "experiment.json", body: `{"project_name":"p"}`},
			zipEntry{name: "messages.json", body: `{"type":"log_other","payload":{"key":"k","value":"` + m + `"}}` + "\n"})
		r, err := convert.Read(context.Background(), zp, convert.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ids[r.Info.RunID] = true
		r.Close()
	}
	if len(ids) != 2 {
		t.Error("two Comet zips without offline_id got one run id")
	}
}

// TestReadLines_LastLine: a last line without a newline that fills the
// read buffer exactly is read, and one over the limit is counted broken.
func TestReadLines_LastLine(t *testing.T) {
	for _, tc := range []struct {
		in            string
		lines, broken int
	}{
		{strings.Repeat("x", 65536), 1, 0},
		{"a\n" + strings.Repeat("x", 3*65536), 1, 1},
		{"a\n" + strings.Repeat("y", 65536*2), 2, 0},
	} {
		var lines, broken int
		err := convert.ReadLines(strings.NewReader(tc.in), 65536*2, func([]byte, int) error { lines++; return nil }, func(int, error) { broken++ })
		if err != nil || lines != tc.lines || broken != tc.broken {
			t.Errorf("%d bytes: %d lines, %d broken (%v); want %d, %d", len(tc.in), lines, broken, err, tc.lines, tc.broken)
		}
	}
}

// resumedSession writes a second ClearML session of the detect-clearml
// run, as a resume from epoch 2 leaves it: a new offline task whose
// metrics.jsonl holds iterations 1 and 2 only, with its "Epoch Time"
// values changed to 99.5.
func resumedSession(t *testing.T) string {
	t.Helper()
	id := "offline-0000000000000000000000000000beef"
	dir := filepath.Join(t.TempDir(), "sessions", id)
	if err := os.CopyFS(dir, os.DirFS(sessionFolder)); err != nil {
		t.Fatal(err)
	}
	task, err := os.ReadFile(filepath.Join(dir, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	task = bytes.ReplaceAll(task, []byte("offline-65072dc9b8014849a4dc396a0eb301ec"), []byte(id))
	if err := os.WriteFile(filepath.Join(dir, "task.json"), task, 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var evs []map[string]any
		if err := json.Unmarshal(line, &evs); err != nil {
			t.Fatal(err)
		}
		var kept []map[string]any
		for _, e := range evs {
			if it, _ := e["iter"].(float64); it < 1 {
				continue
			}
			if e["metric"] == "Epoch Time" {
				e["value"] = 99.5
			}
			e["task"] = id
			kept = append(kept, e)
		}
		b, _ := json.Marshal(kept)
		out.Write(append(b, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.jsonl"), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCapture_TwoSessionsOfResumedRun merges a run's two sessions (the
// first attempt's and the resumed one's) into its archive: the resumed
// session's points replace the first's for the same step, the first's
// other points stay, points are in epoch order, each row names the session
// it came from, and each session keeps its own files.
func TestCapture_TwoSessionsOfResumedRun(t *testing.T) {
	second := resumedSession(t)
	dst := filepath.Join(t.TempDir(), "out.tar.zst")
	if _, err := convert.Capture(context.Background(), filepath.Join(fixtures, "detect-clearml"), dst,
		convert.Options{Sessions: []string{sessionFolder, second}}); err != nil {
		t.Fatal(err)
	}
	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	scalars, _ := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	assets, _ := archive.ReadTable[schemas.AssetRow](context.Background(), a, schemas.TableAssets)
	logs, _ := archive.ReadTable[schemas.LogRow](context.Background(), a, schemas.TableLogs)
	var got []string
	for _, s := range scalars {
		if s.Metric == "Epoch Time" {
			got = append(got, fmt.Sprintf("%d=%v from %s", *s.Step, s.Value, strings.SplitN(s.Origin, ":", 2)[0]))
		}
	}
	want := []string{"0=" + fmt.Sprint(firstEpochTime(t)) + " from offline-65072dc9b8014849a4dc396a0eb301ec",
		"1=99.5 from " + filepath.Base(second) + " (session 2)", "2=99.5 from " + filepath.Base(second) + " (session 2)", "2=99.5 from " + filepath.Base(second) + " (session 2)"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("Epoch Time points:\n got %v\nwant %v", got, want)
	}
	dirs := map[string]int{}
	for _, as := range assets {
		if as.Role == schemas.RoleSessionFile {
			dirs[strings.SplitN(as.FileName, "/", 2)[0]]++
		}
	}
	if dirs["session"] == 0 || dirs["session-2"] == 0 {
		t.Errorf("session files by folder: %v", dirs)
	}
	if len(logs) != 36 {
		t.Errorf("%d console lines, want both sessions' 18", len(logs))
	}
}

// TestCapture_SessionsWithoutRunDir: the two sessions of a resumed run,
// with no run directory, merge into the first session's archive, the
// resumed session's points replacing the first's for the same step.
func TestCapture_SessionsWithoutRunDir(t *testing.T) {
	second := resumedSession(t)
	dst := filepath.Join(t.TempDir(), "out.tar.zst")
	res, err := convert.Capture(context.Background(), sessionFolder, dst, convert.Options{Sessions: []string{second}})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := convert.Read(context.Background(), sessionFolder, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	alone.Close()
	if res.RunID != alone.Info.RunID {
		t.Errorf("run id %s, the first session's %s", res.RunID, alone.Info.RunID)
	}
	a, err := archive.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	scalars, _ := archive.ReadTable[schemas.ScalarRow](context.Background(), a, schemas.TableScalars)
	runs, _ := archive.ReadTable[schemas.RunRow](context.Background(), a, schemas.TableRun)
	byStep := map[int64][]float64{}
	for _, s := range scalars {
		if s.Metric == "Epoch Time" {
			byStep[*s.Step] = append(byStep[*s.Step], s.Value)
		}
	}
	if fmt.Sprint(byStep[1], byStep[2]) != "[99.5] [99.5 99.5]" || len(byStep[0]) != 1 || byStep[0][0] == 99.5 {
		t.Errorf("Epoch Time by step: %v", byStep)
	}
	if runs[0].SessionID != "offline-65072dc9b8014849a4dc396a0eb301ec" {
		t.Errorf("session id %s, want the first session's", runs[0].SessionID)
	}
}

// firstEpochTime is the genuine session's "Epoch Time" at iteration 0.
func firstEpochTime(t *testing.T) float64 {
	data, err := os.ReadFile(filepath.Join(sessionFolder, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var evs []map[string]any
		json.Unmarshal(line, &evs)
		for _, e := range evs {
			if e["metric"] == "Epoch Time" && e["iter"].(float64) == 0 {
				return e["value"].(float64)
			}
		}
	}
	t.Fatal("no Epoch Time at iteration 0")
	return 0
}
