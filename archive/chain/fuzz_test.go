package chain_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/chain"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// scalarsFrom turns bytes into a table of points: each 3 bytes are a
// metric (of 4), an epoch (of 8) and a value (NaN for 255).
func scalarsFrom(b []byte) []schemas.ScalarRow {
	var out []schemas.ScalarRow
	seen := map[[2]byte]bool{}
	for i := 0; i+2 < len(b); i += 3 {
		k := [2]byte{b[i] % 4, b[i+1] % 8}
		if seen[k] { // a capture never holds one point twice
			continue
		}
		seen[k] = true
		v := float64(b[i+2])
		if b[i+2] == 255 {
			v = math.NaN()
		}
		out = append(out, pt(string(rune('a'+k[0])), int64(k[1]), v))
	}
	return out
}

// FuzzDiffApply: for any two states of a run where the later one keeps
// every point of the earlier (a capture never loses rows), applying the
// delta to the earlier state gives the later state's points, and a second
// delta is empty.
func FuzzDiffApply(f *testing.F) {
	f.Add([]byte{0, 1, 5, 1, 2, 255}, []byte{0, 1, 6, 2, 3, 7})
	f.Add([]byte{}, []byte{3, 7, 255, 3, 7, 1})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		have := &archive.Tables{Scalars: scalarsFrom(a)}
		// The later state: b's points (new, or changed values of a's),
		// then a's other points.
		now := &archive.Tables{Scalars: scalarsFrom(b)}
		inNow := map[string]bool{}
		for _, s := range now.Scalars {
			inNow[s.Metric+string(rune('0'+s.Epoch))] = true
		}
		for _, s := range have.Scalars {
			if !inNow[s.Metric+string(rune('0'+s.Epoch))] {
				now.Scalars = append(now.Scalars, s)
			}
		}
		d := chain.Diff(have, now)
		merged := &archive.Tables{Scalars: append([]schemas.ScalarRow(nil), have.Scalars...)}
		chain.Apply(merged, d)
		want := map[string]float64{}
		for _, s := range now.Scalars {
			want[s.Metric+string(rune('0'+s.Epoch))] = s.Value
		}
		got := map[string]float64{}
		for _, s := range merged.Scalars {
			got[s.Metric+string(rune('0'+s.Epoch))] = s.Value
		}
		if len(got) != len(want) || len(merged.Scalars) != len(now.Scalars) {
			t.Fatalf("merged %d points (%d keys), want %d", len(merged.Scalars), len(got), len(want))
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || !(g == v || math.IsNaN(g) && math.IsNaN(v)) {
				t.Fatalf("%s = %v, want %v", k, g, v)
			}
		}
		if again := chain.Diff(merged, now); len(again.Scalars) != 0 || chain.Changes(merged, again) && !reflect.DeepEqual(merged.Info, now.Info) {
			t.Fatalf("second delta not empty: %+v", again.Scalars)
		}
	})
}
