package synctest

import (
	"context"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Scalars returns every scalar row of run, which an opened Run streams
// rather than holds (see ysync.Run.ScanScalars), for tests that look at
// them all.
func Scalars(tb testing.TB, run *ysync.Run) []schemas.ScalarRow {
	tb.Helper()
	var out []schemas.ScalarRow
	if err := run.ScanScalars(context.Background(), func(rows []schemas.ScalarRow) error {
		out = append(out, rows...)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}
