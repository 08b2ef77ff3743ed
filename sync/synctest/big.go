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
	p := filepath.Join(tb.TempDir(), "big.tar.zst")
	const runID = "5eed5eed5eed5eed5eed5eed5eed5eed"
	h := schemas.Header{RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, Writer: "yoloarchive test", Tables: schemas.Tables}
	w, err := archive.Create(p, h, archive.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Abort()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	end := start.Add(time.Duration(epochs) * time.Second)
	version := "8.3.166"
	t := &archive.Tables{Info: schemas.RunRow{
		RunID: runID, SourceKind: schemas.SourceUltralyticsTrain, SourceName: "big", Task: "detect", Mode: "train",
		UltralyticsVersion: &version, Project: "big", Name: "big", StartedAt: &start, EndedAt: &end,
		EpochsPlanned: &epochs, EpochsCompleted: epochs, Status: schemas.StatusFinished, Producer: schemas.ProducerUltralytics,
	}}
	scalars := func() error {
		return archive.WriteRowsFunc(w, schemas.TableScalars, func(emit func(...schemas.ScalarRow) error) error {
			batch := make([]schemas.ScalarRow, 0, len(BigMetrics))
			for e := int64(1); e <= epochs; e++ {
				batch = batch[:0]
				for i, m := range BigMetrics {
					v := float64(i) + 1/float64(e)
					if m == "time" {
						v = float64(e)
					}
					batch = append(batch, schemas.ScalarRow{Metric: m, Epoch: e, Value: v, Origin: "results.csv", Line: e + 1})
				}
				if err := emit(batch...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := t.Write(context.Background(), w, map[string]func() error{schemas.TableScalars: scalars}); err != nil {
		tb.Fatal(err)
	}
	if _, _, err := w.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return p
}
