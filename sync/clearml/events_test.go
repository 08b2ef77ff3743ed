package clearml

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
)

// TestLineEncoder_AsJSONMarshal: a streamed scalar's line is byte for byte
// the json.Marshal of its event map (the offline goldens pin those bytes):
// floats in both notations, negative zero, and names HTML-escaped, with
// invalid UTF-8 and line separators.
func TestLineEncoder_AsJSONMarshal(t *testing.T) {
	le := newLineEncoder("0123456789abcdef0123456789abcdef")
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99e-7, 1e-7, 1.5e-300, 5e-324, 1e20, 1e21, 123456789.125,
		-2.5e-9, math.MaxFloat64, -math.SmallestNonzeroFloat64, 0.30000000000000004}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		values = append(values, math.Float64frombits(rnd.Uint64()))
	}
	names := []string{"train", "metrics/mAP50-95(B)", `a"b\c`, "<&>", "é ü 日本", "bad\xffutf8", "line\u2028sep", "tab\there", ""}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		pt := point{iter: int64(i) - 5, metric: names[i%len(names)], variant: names[(i+3)%len(names)], value: v, ts: int64(i) * 1_700_000_000}
		got, err := le.line(&pt)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(event{"type": clearmloffline.EventScalar, "iter": pt.iter, "metric": pt.metric, "variant": pt.variant,
			"value": v, "timestamp": pt.ts, "task": le.task})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("value %v:\n got %s\nwant %s", v, got, want)
		}
	}
}
