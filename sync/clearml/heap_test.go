package clearml_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/yoloarchive/yoloarchive/archive/memtest"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// sizeofScalarRow is a scalar row's size in a []schemas.ScalarRow (its
// strings not counted): the smallest a table held in memory could be.
const sizeofScalarRow = uint64(unsafe.Sizeof(schemas.ScalarRow{}))

// TestOffline_HeapBounded: writing a clearml-offline session of 420k
// scalar rows (30k epochs) streams the events from the table to
// metrics.jsonl: the sync's peak live heap (the Run's per-epoch summary,
// a row group's decoding, one 4 MiB line of events: 14 MB) stays under
// half the scalars table held as rows (38 MB). The plan used to hold
// every event as a map: 430 MB.
func TestOffline_HeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 420k-row archive")
	}
	const epochs = 30_000
	p := synctest.BigArchive(t, epochs)
	rows := uint64(epochs * len(synctest.BigMetrics))
	table := rows * sizeofScalarRow
	dir := t.TempDir()
	var res ysync.Result
	held, _ := memtest.PeakHeap(func() error {
		res = ysync.One(context.Background(), p, clearml.NewOffline(dir, ysync.Options{}), ysync.BatchOptions{})
		return nil
	})
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	t.Logf("%d rows: clearml-offline peaks at %d KB of live heap (table as rows %d KB)", rows, held>>10, table>>10)
	if bound := table / 2; held > bound {
		t.Errorf("clearml-offline peaks at %d KB of live heap, want under %d KB (half the scalars table)", held>>10, bound>>10)
	}
	// Every tracker metric at every epoch, and each epoch's "Epoch Time".
	if want := int(rows); res.Plan == nil || res.Plan.Scalars != want {
		t.Errorf("plan: %+v, want %d scalars", res.Plan, want)
	}
}

// TestSync_HeapBounded: a sync of 21k scalar rows (1.5k epochs) to the
// fake server generates the events batch by batch as it sends them and
// reads them back folded by series, holding neither list. Its peak live
// heap, less what the fake server still holds after the sync (every event
// it stored, as a map: the real server keeps them in Elasticsearch), is
// about 9 MB: a row group's decoding, a 512 KB batch and its parse by the
// fake, a page of 1,000 events read back, and what grows with the fake's
// store (its per-page sort of the task's events, and the collector's 10%
// of slack over it: 14 MB at 42k rows). It must stay under 16 MB. The plan
// and the read-back used to hold every event three times, as maps: 39 MB
// at 21k rows, 79 MB at 42k.
func TestSync_HeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 21k-row archive")
	}
	const epochs = 1_500
	p := synctest.BigArchive(t, epochs)
	e := newEnv(t)
	before := memtest.HeapNow()
	var res ysync.Result
	peak, _ := memtest.PeakHeap(func() error {
		res = e.sync(t, context.Background(), p, ysync.BatchOptions{})
		return nil
	})
	if res.Status != ysync.StatusSynced {
		t.Fatalf("%s: %s", res.Status, res.Error)
	}
	stored := memtest.HeapNow() - before
	own := peak - min(peak, stored)
	t.Logf("%d rows: peak %d KB of live heap, %d KB held by the fake server after the sync: the sync's own %d KB",
		epochs*len(synctest.BigMetrics), peak>>10, stored>>10, own>>10)
	if own > 16<<20 {
		t.Errorf("the sync peaks at %d KB of live heap besides the fake server's store, want under 16 MB", own>>10)
	}
}

// cutSync syncs a 1,000-epoch archive (14,000 events: 5 batches) into ref
// whole, and into e cut short after its 10th request, and returns the
// archive, both environments and the batches the whole sync sent.
func cutSync(t *testing.T) (p string, ref, e *env, batches int) {
	t.Helper()
	p = synctest.BigArchive(t, 1_000)
	ref = newEnv(t)
	if r := ref.sync(t, context.Background(), p, ysync.BatchOptions{}); r.Status != ysync.StatusSynced {
		t.Fatal(r.Error)
	}
	batches = ref.srv.Calls("events.add_batch")
	e = newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	e.srv.Faults.CancelAfter(10, cancel)
	r := e.sync(t, ctx, p, ysync.BatchOptions{})
	cancel()
	if r.Status != ysync.StatusInterrupted {
		t.Fatalf("cut short: %s %s", r.Status, r.Error)
	}
	e.srv.Faults.WaitQuiet()
	e.srv.Faults.Clear()
	return p, ref, e, batches
}

// TestSync_ResumeSendsOnlyMissingBatches: the event batches are generated
// anew by every sync, in the same order (the archive does not change), so
// a sync stopped after some batches resumes with the others: the batches
// its checkpoint has are generated and dropped, not sent again.
func TestSync_ResumeSendsOnlyMissingBatches(t *testing.T) {
	p, ref, e, batches := cutSync(t)
	sent := e.srv.Calls("events.add_batch")
	if sent < 2 || sent >= batches {
		t.Fatalf("%d of %d batches sent before the cut: move the cut", sent, batches)
	}
	r := e.sync(t, context.Background(), p, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("resume: %s %s", r.Status, r.Error)
	}
	// The batch in flight at the cut may be sent again.
	if again := e.srv.Calls("events.add_batch") - sent; again < batches-sent || again > batches-sent+1 {
		t.Errorf("the resumed sync sent %d batches; %d of %d were sent before", again, sent, batches)
	}
	if got, want := len(e.srv.Events(r.RemoteID)), len(ref.srv.Events(ref.srv.Tasks()[0].ID)); got != want {
		t.Errorf("%d events on the server, a clean sync gives %d", got, want)
	}
}

// TestSync_ResumeChecksBatchContent: a checkpoint names each batch by its
// place and its content, so a checkpoint whose batch i held other events
// (written by an older plan, or one of other options) never makes a
// resumed sync skip events it has not sent. Here the checkpoint claims
// every batch under the plain "events:i/n" names, with only the first few
// sent: the resumed sync sends the rest and reads back every event.
func TestSync_ResumeChecksBatchContent(t *testing.T) {
	p, ref, e, batches := cutSync(t)
	if sent := e.srv.Calls("events.add_batch"); sent < 1 || sent >= batches {
		t.Fatalf("%d of %d batches sent before the cut: move the cut", sent, batches)
	}
	files, err := filepath.Glob(filepath.Join(e.store.Dir, "sync", "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("checkpoints: %v %v", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	done, _ := st["done"].(map[string]any)
	if done == nil {
		t.Fatalf("no steps in %s", data)
	}
	for k := range done {
		if strings.HasPrefix(k, "events:") {
			delete(done, k)
		}
	}
	for i := 0; i < batches; i++ {
		done[fmt.Sprintf("events:%d/%d", i, batches)] = true
	}
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.sync(t, context.Background(), p, ysync.BatchOptions{})
	if r.Status != ysync.StatusSynced {
		t.Fatalf("resume: %s %s", r.Status, r.Error)
	}
	if got, want := len(e.srv.Events(r.RemoteID)), len(ref.srv.Events(ref.srv.Tasks()[0].ID)); got != want {
		t.Errorf("%d events on the server, a clean sync gives %d", got, want)
	}
}
