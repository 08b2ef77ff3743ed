package comet

import (
	"context"
	"errors"
	"hash/maphash"
	"net/url"
	"slices"
)

// The metric read-back compares the experiment's points with the plan
// without holding either whole. Each side is folded metric by metric into
// a count and an order-independent digest (the sum of the points' hashes,
// so that duplicates count): the server's from one get-all answer decoded
// as it arrives, the plan's as the Log generates it. Only a metric whose
// fold differs is compared point by point, a window of such metrics at a
// time (its points on the server read with get-metric, then one walk of
// the plan): what it holds is a window's hashes, not the run's points.

// pointSeed seeds the point hashes (one process: both sides use it).
var pointSeed = maphash.MakeSeed()

// hash is the point's 64-bit hash: of id, so that two points the
// read-back takes as equal (same name, step, epoch, context and value
// as compared, NaN and the infinities as sent) hash alike.
func (p point) hash() uint64 { return maphash.String(pointSeed, p.id()) }

// fold is a metric's points in short: how many, and the sum of their
// hashes.
type fold struct {
	n   int
	sum uint64
}

// folds are the folds of every metric, and the metrics' names in the order
// they were first seen.
type folds struct {
	by    map[string]fold
	names []string
	total int
}

func (f *folds) add(p point) {
	if f.by == nil {
		f.by = map[string]fold{}
	}
	x, ok := f.by[p.name]
	if !ok {
		f.names = append(f.names, p.name)
	}
	x.n++
	x.sum += p.hash()
	f.by[p.name] = x
	f.total++
}

// planned folds the plan's points (once a replay: the archive does not
// change).
func (s *replay) planned(ctx context.Context) (*folds, error) {
	if s.want != nil {
		return s.want, nil
	}
	f := &folds{}
	if err := s.eachPoint(ctx, func(p point) error { f.add(p); return nil }); err != nil {
		return nil, err
	}
	s.want = f
	return f, nil
}

// serverMetric is one point of a metrics answer (get-all, get-metric).
type serverMetric struct {
	MetricName  string  `json:"metricName"`
	MetricValue any     `json:"metricValue"`
	Step        *int64  `json:"step"`
	Epoch       *int64  `json:"epoch"`
	RunContext  *string `json:"runContext"`
}

// point is the server's point as the plan's are compared; ok is false for
// a value that is not a number or one of the strings NaN and ±Infinity.
func (m serverMetric) point() (point, bool) {
	v, ok := parseValue(m.MetricValue)
	if !ok {
		return point{}, false
	}
	p := point{name: m.MetricName, value: v, step: m.Step, epoch: m.Epoch}
	if m.RunContext != nil {
		p.context = *m.RunContext
	}
	return p, true
}

// served folds the experiment's points: one get-all request, whatever
// their number, decoded as it arrives.
func (s *replay) served(ctx context.Context) (*folds, error) {
	f := &folds{}
	err := getList(ctx, s, "experiment/metrics/get-all", url.Values{"experimentKey": {s.key}}, "metrics", func(m serverMetric) error {
		if p, ok := m.point(); ok {
			f.add(p)
		}
		return nil
	})
	return f, err
}

// serverHashes counts the experiment's points of one metric by hash (one
// get-metric request) into have.
func (s *replay) serverHashes(ctx context.Context, name string, have map[uint64]int) error {
	return getList(ctx, s, "experiment/metrics/get-metric", url.Values{"experimentKey": {s.key}, "metricName": {name}}, "metrics", func(m serverMetric) error {
		if p, ok := m.point(); ok && p.name == name {
			have[p.hash()]++
		}
		return nil
	})
}

// differing lists the planned metrics whose folds differ from the
// server's, in the plan's order.
func differing(want, have *folds) []string {
	var out []string
	for _, n := range want.names {
		if want.by[n] != have.by[n] {
			out = append(out, n)
		}
	}
	return out
}

// detailWindow is the most points (planned or on the server) of the
// metrics a detailed comparison holds at once (a variable for tests).
var detailWindow = 1 << 18

// detail compares the metrics in names point by point, a window of them
// at a time: it reads the window's points on the server into have (hash
// → count), then walks the plan once and calls fn with each planned
// point of the window's metrics, in plan order, and finally done with
// what fn left of have. size is a metric's points on either side, to cut
// the windows.
func (s *replay) detail(ctx context.Context, names []string, size func(string) int,
	fn func(p point, h uint64, have map[uint64]int) error, done func(have map[uint64]int) error) error {
	for len(names) > 0 {
		n, held := 0, 0
		for n < len(names) && (n == 0 || held+size(names[n]) <= detailWindow) {
			held += size(names[n])
			n++
		}
		window := names[:n]
		names = names[n:]
		have := map[uint64]int{}
		for _, name := range window {
			if err := s.serverHashes(ctx, name, have); err != nil {
				return err
			}
		}
		err := s.eachPoint(ctx, func(p point) error {
			if !slices.Contains(window, p.name) {
				return nil
			}
			return fn(p, p.hash(), have)
		})
		if err != nil {
			return err
		}
		if err := done(have); err != nil {
			return err
		}
	}
	return nil
}

// sizeOf returns a metric's size for detail: its points on the larger
// side.
func sizeOf(want, have *folds) func(string) int {
	return func(name string) int { return max(want.by[name].n, have.by[name].n) }
}

// verifyPoints checks that the experiment holds every planned point as
// many times as planned (points the plan does not have, such as those of
// an earlier capture of the run, are allowed), and names the first
// planned point, in plan order, that it does not.
func (s *replay) verifyPoints(ctx context.Context) error {
	want, err := s.planned(ctx)
	if err != nil {
		return err
	}
	have, err := s.served(ctx)
	if err != nil {
		return err
	}
	var bad map[uint64][2]int // hash → (on the server, planned)
	var wantN map[uint64]int
	err = s.detail(ctx, differing(want, have), sizeOf(want, have),
		func(p point, h uint64, _ map[uint64]int) error {
			if wantN == nil {
				wantN = map[uint64]int{}
			}
			wantN[h]++
			return nil
		},
		func(have map[uint64]int) error {
			for h, n := range wantN {
				if have[h] != n {
					if bad == nil {
						bad = map[uint64][2]int{}
					}
					bad[h] = [2]int{have[h], n}
				}
			}
			wantN = nil
			if bad != nil {
				return errStop
			}
			return nil
		})
	if err != nil && err != errStop {
		return err
	}
	if bad == nil {
		return nil
	}
	// Name the first point that differs, in plan order.
	var first error
	err = s.eachPoint(ctx, func(p point) error {
		if c, ok := bad[p.hash()]; ok {
			first = s.mismatch("metric point %s: %d on the server, want %d", p.id(), c[0], c[1])
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return err
	}
	return first
}

// errStop ends a walk early.
var errStop = errors.New("stop")

// missingPoints counts the planned points the experiment lacks (each
// point on the server stands for one planned point), of how many.
func (s *replay) missingPoints(ctx context.Context) (missing, total int, err error) {
	want, err := s.planned(ctx)
	if err != nil {
		return 0, 0, err
	}
	have, err := s.served(ctx)
	if err != nil {
		return 0, 0, err
	}
	err = s.detail(ctx, differing(want, have), sizeOf(want, have),
		func(_ point, h uint64, have map[uint64]int) error {
			if have[h] > 0 {
				have[h]--
			} else {
				missing++
			}
			return nil
		},
		func(map[uint64]int) error { return nil })
	return missing, want.total, err
}
