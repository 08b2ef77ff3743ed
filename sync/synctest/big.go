package synctest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// BigMetrics are the tracker metrics of a detection run (results.csv's
// columns the callbacks log), plus the "time" column.
var BigMetrics = []string{
	"train/box_loss", "train/cls_loss", "train/dfl_loss",
	"metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
	"val/box_loss", "val/cls_loss", "val/dfl_loss",
	"lr/pg0", "lr/pg1", "lr/pg2", "time",
}

// BigArchive writes a finished run of epochs epochs whose scalars
// table holds epochs × len(BigMetrics) rows, streamed to the writer so that
// the test itself holds none of them.
func BigArchive(tb testing.TB, epochs int64) string {
	tb.Helper()
	start, end := BigTimes(epochs)
	version := "8.3.166"
	info := schemas.RunRow{
		RunID: "5eed5eed5eed5eed5eed5eed5eed5eed", SourceKind: schemas.SourceUltralyticsTrain, SourceName: "big", Task: "detect", Mode: "train",
		UltralyticsVersion: &version, Project: "big", Name: "big", StartedAt: &start, EndedAt: &end,
		EpochsPlanned: &epochs, EpochsCompleted: epochs, Status: schemas.StatusFinished, Producer: schemas.ProducerUltralytics,
	}
	return ScalarsArchive(tb, "big.tar.zst", info, epochs, func(e int64, batch []schemas.ScalarRow) []schemas.ScalarRow {
		for i, m := range BigMetrics {
			v := float64(i) + 1/float64(e)
			if m == "time" {
				v = float64(e)
			}
			batch = append(batch, schemas.ScalarRow{Metric: m, Epoch: e, Value: v, Origin: "results.csv", Line: e + 1})
		}
		return batch
	})
}

// BigTimes are a big run's start and end: a second an epoch.
func BigTimes(epochs int64) (start, end time.Time) {
	start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return start, start.Add(time.Duration(epochs) * time.Second)
}

// ScalarsArchive writes, in a temporary folder under name, the archive of
// the run info whose scalars table holds, epoch after epoch from 1 to
// epochs, the rows epoch appends to its (emptied) batch: streamed to the
// writer, so that the test holds one epoch's rows at a time.
func ScalarsArchive(tb testing.TB, name string, info schemas.RunRow, epochs int64, epoch func(e int64, batch []schemas.ScalarRow) []schemas.ScalarRow) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	h := schemas.Header{RunID: info.RunID, SourceKind: info.SourceKind, Writer: "yoloarchive test", Tables: schemas.Tables}
	w, err := archive.Create(p, h, archive.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Abort()
	scalars := func() error {
		return archive.WriteRowsFunc(w, schemas.TableScalars, func(emit func(...schemas.ScalarRow) error) error {
			var batch []schemas.ScalarRow
			for e := int64(1); e <= epochs; e++ {
				batch = epoch(e, batch[:0])
				if err := emit(batch...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	t := &archive.Tables{Info: info}
	if err := t.Write(context.Background(), w, map[string]func() error{schemas.TableScalars: scalars}); err != nil {
		tb.Fatal(err)
	}
	if _, _, err := w.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return p
}
