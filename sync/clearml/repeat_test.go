package clearml_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
)

// scalarsArchive writes a finished run of epochs whose scalars table is
// rows, in that order.
func scalarsArchive(t *testing.T, epochs int64, rows []schemas.ScalarRow) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "run.tar.zst")
	const runID = "4e9ea7ed4e9ea7ed4e9ea7ed4e9ea7ed"
	h := schemas.Header{RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, Writer: "yoloarchive test", Tables: schemas.Tables}
	w, err := archive.Create(p, h, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	end := start.Add(time.Hour)
	version := "8.3.166"
	tables := &archive.Tables{Info: schemas.RunRow{
		RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, SourceName: "repeat", Task: "detect", Mode: "train",
		UltralyticsVersion: &version, Project: "repeat", Name: "repeat", StartedAt: &start, EndedAt: &end,
		EpochsPlanned: &epochs, EpochsCompleted: epochs, Status: schemas.StatusFinished, Producer: schemas.ProducerUltralytics,
	}, Scalars: rows}
	if err := tables.Write(context.Background(), w, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSync_RepeatedEpochsReadBack: a results.csv that logs an epoch twice
// (a resumed run) or out of order: the plan sends both rows, the server
// keeps the later, and the read-back, which folds each series' events,
// counts each id once, with the later value, and finds the task complete.
func TestSync_RepeatedEpochsReadBack(t *testing.T) {
	var rows []schemas.ScalarRow
	add := func(e int64, v float64) {
		for _, m := range []string{"train/box_loss", "metrics/mAP50(B)", "lr/pg0"} {
			rows = append(rows, schemas.ScalarRow{Metric: m, Epoch: e, Value: v, Origin: "results.csv", Line: e + 1})
		}
	}
	for e := int64(1); e <= 6; e++ {
		add(e, float64(e))
	}
	add(3, 30) // resumed at epoch 3: the later row wins
	add(5, 50)
	add(7, 7)
	add(4, 40) // out of order
	archive := scalarsArchive(t, 7, rows)
	e := newEnv(t)
	res := e.sync(t, context.Background(), archive, ysync.BatchOptions{})
	if res.Status != ysync.StatusSynced {
		t.Fatalf("%s: %s", res.Status, res.Error)
	}
	got := map[int64]float64{}
	for _, ev := range e.srv.Events(res.RemoteID) {
		if ev.Variant == "train/box_loss" {
			got[ev.Iter] = ev.Value
		}
	}
	want := map[int64]float64{0: 1, 1: 2, 2: 30, 3: 40, 4: 50, 5: 6, 6: 7}
	for it, v := range want {
		if got[it] != v {
			t.Errorf("iteration %d: %v on the server, want %v", it, got[it], v)
		}
	}
	if r := e.dryRun(t, archive, nil); r.Action != ysync.ActionUpToDate {
		t.Errorf("dry run: %s %v", r.Action, r.Changes)
	}
	// One value changed on the server: one of the ids (not of the rows)
	// differs.
	scalars := 0
	var ev clearmltest.Event
	for _, x := range e.srv.Events(res.RemoteID) {
		if x.Type == "training_stats_scalar" {
			scalars++
			if x.Variant == "lr/pg0" && x.Iter == 2 {
				ev = x
			}
		}
	}
	postEvents(t, e, map[string]any{"type": ev.Type, "task": res.RemoteID, "iter": ev.Iter, "metric": ev.Metric, "variant": ev.Variant,
		"value": 3.0, "timestamp": ev.Timestamp})
	r := e.dryRun(t, archive, nil)
	if want := fmt.Sprintf("1 of %d scalars missing or different", scalars); len(r.Changes) != 1 || r.Changes[0] != want {
		t.Errorf("dry run: %s %q, want %q", r.Action, r.Changes, want)
	}
}
