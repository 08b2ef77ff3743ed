package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// scalarParquet is a Parquet file of n scalar rows, as tableParquet
// writes them.
func scalarParquet(t *testing.T, n int) []byte {
	t.Helper()
	rows := make([]Scalar, n)
	for i := range rows {
		rows[i] = Scalar{RunID: "r", Metric: fmt.Sprintf("m%d", i%13), MetricOriginal: "m", Epoch: int64(i), Value: float64(i)}
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows, parquet.Compression(codec)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestConvert_Cancelled: converting to Arrow or CSV under a context that
// is cancelled (Ctrl-C) returns the context's error. Arrow's ReadTable
// panicked instead ("column field is inconsistent with schema", or a nil
// pointer in its row-group reader) when the cancellation came first.
func TestConvert_Cancelled(t *testing.T) {
	data := scalarParquet(t, 50000)
	for name, convert := range map[string]func(context.Context, source, io.Writer) error{"arrow": toArrow, "csv": toCSV} {
		for i := 0; i < 20; i++ {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("panic: %v", p)
					}
				}()
				return convert(ctx, bytes.NewReader(data), io.Discard)
			}()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s, cancelled: %v, want context.Canceled", name, err)
			}
		}
		// Not cancelled, every row arrives.
		var out bytes.Buffer
		if err := convert(context.Background(), bytes.NewReader(data), &out); err != nil || out.Len() == 0 {
			t.Fatalf("%s: %v (%d bytes)", name, err, out.Len())
		}
	}
}
