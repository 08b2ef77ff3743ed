package comet_test

import (
	"archive/zip"
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/yoloarchive/yoloarchive/archive/memtest"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// heapEpochs is the size of the heap tests' run: 30,000 epochs, 420k
// scalar rows (about 38 MB as []schemas.ScalarRow, 130 MB as the Log of
// calls the replay used to build before its first write).
const heapEpochs = 30_000

// heapBound is what a sync of the heap tests' run may hold at its peak:
// the archive reader's decoding of a row group (about 10 MB, see
// sync.TestOpen_StreamsBigTables), one epoch's calls, a few batch bodies
// and per-metric summaries. It does not grow with the rows: the metric
// calls are generated from the scalars table as they are written or sent.
const heapBound = 32 << 20

// TestOffline_HeapBounded: writing a 420k-row run's offline zip peaks far
// below the table's size: the zip's messages are written as the scans
// generate them, never listed whole (it peaked at 100 to 140 MB when the
// Log held every call; 9 MB now).
func TestOffline_HeapBounded(t *testing.T) {
	res, zipPath, peak := offlinePeak(t, synctest.BigArchive(t, heapEpochs))
	// 13 tracker metrics an epoch, and the last epoch's learning rates
	// again at train end.
	if want := heapEpochs*13 + 3; res.Plan.Scalars != want {
		t.Errorf("plan counts %d scalars, want %d", res.Plan.Scalars, want)
	}
	if got := zipMetrics(t, zipPath); got != res.Plan.Scalars {
		t.Errorf("the zip holds %d metric messages, want %d", got, res.Plan.Scalars)
	}
	t.Logf("comet-offline, %d epochs: peak heap %d KB", heapEpochs, peak>>10)
	if peak > heapBound {
		t.Errorf("peak heap %d MB, want under %d MB", peak>>20, heapBound>>20)
	}
}

// TestOfflineSession_HeapBounded: a captured Comet session of 420k points
// (in time order, as a session records them) is written as a zip without
// holding its points: they are generated from the table, merged by time
// with the session's other calls (it peaked at 526 MB when the points were
// sorted in memory; 9 MB now).
func TestOfflineSession_HeapBounded(t *testing.T) {
	res, zipPath, peak := offlinePeak(t, bigSession(t, heapEpochs))
	if want := heapEpochs * len(synctest.BigMetrics); res.Plan.Scalars != want {
		t.Errorf("plan counts %d scalars, want %d", res.Plan.Scalars, want)
	}
	if got, want := zipMetrics(t, zipPath), heapEpochs*len(synctest.BigMetrics); got != want {
		t.Errorf("the zip holds %d metric messages, want %d", got, want)
	}
	t.Logf("comet-offline of a session, %d epochs: peak heap %d KB", heapEpochs, peak>>10)
	if peak > heapBound {
		t.Errorf("peak heap %d MB, want under %d MB", peak>>20, heapBound>>20)
	}
}

// offlinePeak writes the offline zip of the archive p and returns the
// result, the zip's path and the peak of the live heap meanwhile.
func offlinePeak(t *testing.T, p string) (res ysync.Result, zipPath string, peak uint64) {
	t.Helper()
	dir := t.TempDir()
	peak, _ = memtest.PeakHeap(func() error {
		res = ysync.One(context.Background(), p, comet.NewOffline(dir, comet.Options{}), ysync.BatchOptions{})
		return nil
	})
	if res.Status != ysync.StatusWritten {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	return res, filepath.Join(dir, filepath.Base(res.Output)), peak
}

// zipMetrics counts the metric messages of an offline zip.
func zipMetrics(t *testing.T, path string) int {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open("messages.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasSuffix(sc.Text(), `"type":"metric_msg"}`) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// bigSession writes a finished Comet session of epochs epochs, a point of
// each of synctest.BigMetrics an epoch, each with its step, epoch and time,
// streamed to the writer.
func bigSession(tb testing.TB, epochs int64) string {
	tb.Helper()
	start, end := synctest.BigTimes(epochs)
	info := schemas.RunRow{
		RunID: "5e55105e55105e55105e55105e551050", SourceKind: schemas.SourceCometOffline, SourceName: "session", Project: "big", Name: "session",
		StartedAt: &start, EndedAt: &end, EpochsCompleted: epochs, Status: schemas.StatusFinished,
	}
	return synctest.ScalarsArchive(tb, "session.tar.zst", info, epochs, func(e int64, batch []schemas.ScalarRow) []schemas.ScalarRow {
		at := start.Add(time.Duration(e) * time.Second)
		for i, m := range synctest.BigMetrics {
			batch = append(batch, schemas.ScalarRow{Metric: m, Epoch: e, Value: float64(i) + 1/float64(e),
				Step: &e, SessionEpoch: &e, WallTime: &at, Origin: "messages.json"})
		}
		return batch
	})
}

// restHeapEpochs is the size of the REST heap test's run: 10,000 epochs,
// 140k scalar rows (the fake's answers to a read-back of them take a few
// hundred MB in its own process).
const restHeapEpochs = 10_000

// restHeapBound is heapBound for a REST sync of the smaller run: the scan
// (about 9 MB) and the batches in flight (a batch being filled, one per
// worker, each with its gzip body).
const restHeapBound = 20 << 20

// TestREST_HeapBounded: a REST sync of a 140k-row run, sent in 140
// batches and read back, peaks far below the table's size: the batches are
// filled as the scans generate the points, and the read-back folds the
// server's answer metric by metric as it arrives (it peaked at 34 MB,
// 2.4 times this bound, when the plan listed every point and the read-back
// held both sides' points in maps: 420k rows would have taken 100 MB). The fake server runs in a child process (the test binary, see
// serveFake), so that what it holds, every point received, is not
// measured: the bound is the client's alone.
func TestREST_HeapBounded(t *testing.T) {
	p := synctest.BigArchive(t, restHeapEpochs)
	url, key := startFake(t)
	d, err := comet.New(comet.Config{APIKey: key, URL: url}, comet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.SetClientOptions(ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond, RetryMax: 10,
		Limiter: rate.NewLimiter(rate.Inf, 0)})
	var res ysync.Result
	peak, _ := memtest.PeakHeap(func() error {
		res = ysync.One(context.Background(), p, d, ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
		return nil
	})
	if res.Status != ysync.StatusSynced {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if want := restHeapEpochs*13 + 3; res.Plan.Scalars != want {
		t.Errorf("plan counts %d scalars, want %d", res.Plan.Scalars, want)
	}
	t.Logf("comet REST, %d epochs: peak heap %d KB, %d requests", restHeapEpochs, peak>>10, res.Requests)
	if peak > restHeapBound {
		t.Errorf("peak heap %d MB, want under %d MB", peak>>20, restHeapBound>>20)
	}
}

// startFake starts the test binary as a fake Comet server in a child
// process and returns its COMET_URL_OVERRIDE and API key; it stops when
// the test ends.
func startFake(t *testing.T) (url, key string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fakeEnv+"=serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("fake server: %v", err)
	}
	url, key, ok := strings.Cut(strings.TrimSpace(line), " ")
	if !ok {
		t.Fatalf("fake server said %q", line)
	}
	return url, key
}
