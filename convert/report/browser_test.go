package report_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yoloarchive/yoloarchive/convert/report"
	"github.com/yoloarchive/yoloarchive/schemas"
)

var (
	update     = flag.Bool("update", false, "update golden files in testdata/")
	screenshot = flag.String("screenshot", "", "save screenshots of the fixture report (report.png, report-images.png) in this folder")
)

// chromium returns the browser to drive: Debian's chromium. The browser
// tests skip without it, unless YOLOARCHIVE_REQUIRE_CHROMIUM is set (CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("YOLOARCHIVE_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium is not installed and YOLOARCHIVE_REQUIRE_CHROMIUM is set: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); set YOLOARCHIVE_REQUIRE_CHROMIUM to fail instead")
	return ""
}

// browser opens page (a file) in headless chromium and records every
// console message of level error or warning, every uncaught exception and
// every request.
type browser struct {
	ctx      context.Context
	url      string
	mu       sync.Mutex
	problems []string
	requests []string
}

func openPage(t *testing.T, page string) *browser {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests may run as root, in a container
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	b := &browser{}
	ctx, cancel2 := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.problems = append(b.problems, fmt.Sprintf("exception at %d:%d: %s", d.LineNumber+1, d.ColumnNumber+1, msg))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				b.problems = append(b.problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *network.EventLoadingFailed:
			b.problems = append(b.problems, "loading failed: "+ev.ErrorText)
		}
	}))
	t.Cleanup(cancel2)
	b.ctx = ctx
	url := "file://" + page
	b.url = url
	// The first Run starts the browser: no timeout on its context.
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	wctx, cancel3 := context.WithTimeout(ctx, time.Minute)
	defer cancel3()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS("#best-tbl"))); err != nil {
		t.Fatalf("open %s: no table of best values after a minute (%v): %s", url, err, strings.Join(b.findings(), "; "))
	}
	return b
}

// findings lists the page's console errors and warnings, exceptions,
// failed loads and the requests for anything but the page itself and the
// images inline in it (data: URIs, which Chromium lists as requests
// without any network).
func (b *browser) findings() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]string(nil), b.problems...)
	for _, u := range b.requests {
		if u != b.url && !strings.HasPrefix(u, "data:") {
			out = append(out, "request for "+u)
		}
	}
	if len(b.requests) == 0 {
		out = append(out, "no request recorded, not even the page's: the check cannot see any")
	}
	return out
}

// eval evaluates js in the page and decodes its value into out (nil: the
// value is not read).
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// shownBest is a row of the page's best values table.
type shownBest struct {
	Run        int    `json:"run"`
	Metric     string `json:"metric"`
	Best       string `json:"best,omitempty"` // the value, exactly
	BestEpoch  string `json:"best_epoch"`
	Final      string `json:"final"`
	FinalEpoch string `json:"final_epoch"`
}

// expectedBest computes each metric's best (the lowest epoch with the
// highest metrics/* value or the lowest loss, NaN never best) and final
// value (the last epoch's) from the archive's scalars, written without the
// report's code, as an SQL query would.
func expectedBest(t *testing.T, run int, path string) []shownBest {
	t.Helper()
	by := map[string][]schemas.ScalarRow{}
	for _, r := range tables[schemas.ScalarRow](t, path, schemas.TableScalars) {
		by[r.Metric] = append(by[r.Metric], r)
	}
	var out []shownBest
	for m, rows := range by {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Epoch < rows[j].Epoch })
		last := rows[len(rows)-1]
		row := shownBest{Run: run, Metric: m, Final: strconv.FormatFloat(last.Value, 'g', -1, 64), FinalEpoch: strconv.FormatInt(last.Epoch, 10), BestEpoch: "-"}
		if math.IsNaN(last.Value) {
			row.Final = "NaN"
		}
		sign := 0.0
		switch {
		case strings.HasPrefix(m, "metrics/"):
			sign = 1
		case strings.HasSuffix(m, "_loss"):
			sign = -1
		}
		if sign != 0 {
			var best *schemas.ScalarRow
			for i := range rows {
				r := &rows[i]
				if !math.IsNaN(r.Value) && (best == nil || sign*r.Value > sign*best.Value) {
					best = r
				}
			}
			if best != nil {
				row.Best, row.BestEpoch = strconv.FormatFloat(best.Value, 'g', -1, 64), strconv.FormatInt(best.Epoch, 10)
			}
		}
		out = append(out, row)
	}
	return out
}

// canonical writes a number the page shows (JavaScript's String(v), which
// gives the shortest text that reads back as the same float64) as Go does.
func canonical(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func sortBest(rows []shownBest) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Run != rows[j].Run {
			return rows[i].Run < rows[j].Run
		}
		return rows[i].Metric < rows[j].Metric
	})
}

// TestBrowser_Report opens the fixture report in headless Chromium.
func TestBrowser_Report(t *testing.T) {
	chromium(t)
	dir := t.TempDir()
	paths := append([]string{}, fixtures...)
	paths = append(paths, synthetic(t, dir))
	page, res := writeReport(t, paths, report.Options{Now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), Version: "test"})
	b := openPage(t, page)
	defer func() {
		for _, f := range b.findings() {
			t.Errorf("the page: %s", f)
		}
	}()

	t.Run("best values", func(t *testing.T) {
		shown := eval[[]shownBest](t, b, `Array.from(document.querySelectorAll("#best-tbl tbody tr")).map(tr => ({
			run: +tr.dataset.run, metric: tr.dataset.metric,
			best: tr.querySelector("td.best").dataset.value || "",
			best_epoch: tr.querySelector("td.best-epoch").textContent,
			final: tr.querySelector("td.final").dataset.value,
			final_epoch: tr.querySelector("td.final-epoch").textContent}))`)
		for i := range shown {
			shown[i].Best, shown[i].Final = canonical(shown[i].Best), canonical(shown[i].Final)
		}
		var want []shownBest
		for i, p := range paths {
			want = append(want, expectedBest(t, i, p)...)
		}
		sortBest(shown)
		sortBest(want)
		if len(shown) != len(want) {
			t.Fatalf("the page shows %d best values, want %d", len(shown), len(want))
		}
		for i := range want {
			if shown[i] != want[i] {
				t.Errorf("shown %+v\nwant  %+v", shown[i], want[i])
			}
		}
		// The fixtures' values, as the page shows them, are what
		// scripts/duckdb-check.sh has DuckDB compute from the exported
		// tables.
		type goldenRow struct {
			RunID      string `json:"run_id"`
			Metric     string `json:"metric"`
			Best       string `json:"best,omitempty"`
			BestEpoch  string `json:"best_epoch"`
			Final      string `json:"final"`
			FinalEpoch string `json:"final_epoch"`
		}
		var fixtureRows []goldenRow
		for _, r := range shown {
			if r.Run < len(fixtures) {
				id := tables[schemas.RunRow](t, paths[r.Run], schemas.TableRun)[0].RunID
				fixtureRows = append(fixtureRows, goldenRow{id, r.Metric, r.Best, r.BestEpoch, r.Final, r.FinalEpoch})
			}
		}
		golden := filepath.Join("testdata", "best.golden.json")
		got, _ := json.MarshalIndent(fixtureRows, "", "  ")
		got = append(got, '\n')
		if *update {
			os.WriteFile(golden, got, 0o644)
		}
		if wantGolden, err := os.ReadFile(golden); err != nil || string(wantGolden) != string(got) {
			t.Errorf("the best values differ from %s (err %v): run with -update and check with make duckdb", golden, err)
		}
	})

	t.Run("sortable", func(t *testing.T) {
		order := eval[[]string](t, b, `document.querySelectorAll("#best-tbl th")[5].click();
			Array.from(document.querySelectorAll("#best-tbl td.final")).map(td => td.dataset.value)`)
		var prev float64 = math.Inf(-1)
		for _, s := range order {
			if s == "NaN" {
				continue
			}
			v, _ := strconv.ParseFloat(s, 64)
			if v < prev {
				t.Fatalf("sorted by final: %v after %v", v, prev)
			}
			prev = v
		}
	})

	// Shapes per image: as many as the annotations table holds for it.
	type fig struct {
		Run   int    `json:"run"`
		File  string `json:"file"`
		Shown int    `json:"shown"`
	}
	drawn := func(t *testing.T) []fig {
		return eval[[]fig](t, b, `Array.from(document.querySelectorAll("figure[data-annotations]")).map(f => ({
			run: +f.dataset.run, file: f.dataset.file, shown: f.querySelectorAll("svg.overlay g.ann").length}))`)
	}
	type count struct{ gt, pred, predOver int }
	const threshold = 0.5
	want := map[string]*count{}
	var total count
	for i, p := range paths {
		for _, a := range tables[schemas.AnnotationRow](t, p, schemas.TableAnnotations) {
			k := fmt.Sprintf("%d %s", i, a.ImageFile)
			if want[k] == nil {
				want[k] = &count{}
			}
			c := want[k]
			switch {
			case a.Layer == schemas.LayerGroundTruth:
				c.gt++
				total.gt++
			case a.Score == nil || *a.Score >= threshold:
				c.pred++
				c.predOver++
				total.pred++
				total.predOver++
			default:
				c.pred++
				total.pred++
			}
		}
	}
	if total.predOver == 0 || total.predOver == total.pred || total.gt == 0 {
		t.Fatalf("the test needs ground truth and predictions on both sides of %v: %+v", threshold, total)
	}
	t.Run("overlays", func(t *testing.T) {
		figs := drawn(t)
		if len(figs) != len(want) {
			t.Errorf("%d images with overlays, want %d", len(figs), len(want))
		}
		n := 0
		for _, f := range figs {
			c := want[fmt.Sprintf("%d %s", f.Run, f.File)]
			if c == nil || f.Shown != c.gt+c.pred {
				t.Errorf("run %d %s: %d shapes drawn, want %+v", f.Run, f.File, f.Shown, c)
			}
			n += f.Shown
		}
		if n != res.Annotations {
			t.Errorf("%d shapes drawn, the report counts %d", n, res.Annotations)
		}
		// Each overlay lies exactly over its image (annotations are in the
		// image's pixels).
		misfit := eval[[]string](t, b, `Array.from(document.querySelectorAll("figure[data-annotations]")).flatMap(f => {
			const i = f.querySelector(".frame img").getBoundingClientRect(), s = f.querySelector("svg.overlay").getBoundingClientRect();
			return [i.x, i.y, i.width, i.height].every((v, k) => Math.abs(v - [s.x, s.y, s.width, s.height][k]) < 0.5) ? [] :
				[f.dataset.file + ": image " + [i.x, i.y, i.width, i.height] + ", overlay " + [s.x, s.y, s.width, s.height]];
		})`)
		for _, m := range misfit {
			t.Errorf("overlay does not fit its image: %s", m)
		}
	})

	t.Run("layers and threshold", func(t *testing.T) {
		check := func(step, js string, wantOf func(c *count) int) {
			t.Helper()
			total := eval[int](t, b, js+`; window.yoloarchiveReport.drawn()`)
			sum := 0
			for _, f := range drawn(t) {
				c := want[fmt.Sprintf("%d %s", f.Run, f.File)]
				if f.Shown != wantOf(c) {
					t.Errorf("%s: run %d %s: %d shapes, want %d", step, f.Run, f.File, f.Shown, wantOf(c))
				}
				sum += f.Shown
			}
			if sum != total {
				t.Errorf("%s: drawn() %d, shapes in the page %d", step, total, sum)
			}
		}
		click := func(id string) string { return `document.getElementById("` + id + `").click()` }
		setThreshold := func(v float64) string {
			return fmt.Sprintf(`(() => { const r = document.getElementById("threshold"); r.value = "%v"; r.dispatchEvent(new Event("input")); })()`, v)
		}
		check("ground truth off", click("layer-g"), func(c *count) int { return c.pred })
		check("both off", click("layer-p"), func(c *count) int { return 0 })
		check("predictions on", click("layer-p"), func(c *count) int { return c.pred })
		check("both on", click("layer-g"), func(c *count) int { return c.gt + c.pred })
		check("threshold", setThreshold(threshold), func(c *count) int { return c.gt + c.predOver })
		check("threshold back", setThreshold(0), func(c *count) int { return c.gt + c.pred })
	})

	t.Run("full size on click", func(t *testing.T) {
		type lightbox struct {
			Open    bool `json:"open"`
			Natural int  `json:"natural"`
			Shapes  int  `json:"shapes"`
		}
		eval[chromedp.Void](t, b, `document.querySelector("figure[data-annotations] .frame").click(); ({})`)
		if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#lightbox-inner img") && document.querySelector("#lightbox-inner img").complete`)); err != nil {
			t.Fatal(err)
		}
		got := eval[lightbox](t, b, `({open: !document.getElementById("lightbox").hidden, natural: document.querySelector("#lightbox-inner img").naturalWidth,
			shapes: document.querySelectorAll("#lightbox-inner g.ann").length})`)
		first := drawn(t)[0]
		width := 0
		for _, im := range tables[schemas.ImageRow](t, paths[first.Run], schemas.TableImages) {
			if im.FileName == first.File {
				width = int(im.Width)
			}
		}
		if !got.Open || got.Natural != width || got.Shapes != first.Shown {
			t.Errorf("lightbox %+v, want open, the original %d pixels wide and %d shapes", got, width, first.Shown)
		}
		if !eval[bool](t, b, `document.getElementById("lightbox").click(); document.getElementById("lightbox").hidden`) {
			t.Errorf("a click does not close the lightbox")
		}
	})

	t.Run("curves", func(t *testing.T) {
		type charts struct {
			Charts  int `json:"charts"`
			Canvas  int `json:"canvas"`
			Metrics int `json:"metrics"`
		}
		n := eval[charts](t, b, `document.querySelector('#metric-picker input[data-metric="train/pose_loss"]').click();
			({charts: document.querySelectorAll("#charts .chart").length, canvas: document.querySelectorAll("#charts canvas").length,
			  metrics: document.querySelectorAll("#metric-picker input").length})`)
		if n.Charts < 4 || n.Canvas != n.Charts {
			t.Errorf("%d charts with %d canvases, want at least 4, one canvas each", n.Charts, n.Canvas)
		}
	})

	if *screenshot != "" {
		// The top of the page (runs, curves) and the image gallery.
		if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 1000)); err != nil {
			t.Fatal(err)
		}
		eval[chromedp.Void](t, b, `window.scrollTo(0, 0); ({})`)
		top, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		gallery, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS("#gallery")))
		if err != nil {
			t.Fatal(err)
		}
		for name, png := range map[string][]byte{"report.png": top, "report-images.png": gallery} {
			if err := os.WriteFile(filepath.Join(*screenshot, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestBrowser_HarnessSeesProblems: the checks of TestBrowser_Report see a
// request to the network, a console error and an exception.
func TestBrowser_HarnessSeesProblems(t *testing.T) {
	chromium(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	html := `<!DOCTYPE html><html><body><table id="best-tbl"><tr><td>x</td></tr></table>
<img src="http://127.0.0.1:9/logo.png"><script>console.error("boom"); null.x;</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	b := openPage(t, page)
	// The image's request fails at once (port 9 is closed or filtered);
	// wait for its event.
	var got string
	for range 50 {
		got = strings.Join(b.findings(), "\n")
		if strings.Contains(got, "loading failed") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"request for http://127.0.0.1:9/logo.png", "console.error: \"boom\"", "exception", "TypeError"} {
		if !strings.Contains(got, want) {
			t.Errorf("findings miss %q:\n%s", want, got)
		}
	}
}
