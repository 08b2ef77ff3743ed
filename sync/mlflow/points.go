package mlflow

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"iter"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// windowRows is how many rows a pass over an unordered scalars table
// gathers at most (see pointGen).
const windowRows = 1 << 16

// pointGen generates a plan's metric points from the run's scalars table,
// epoch by epoch, each time it is asked: nothing but O(metrics) names and
// the final validation's few points are held between passes.
//
// A table whose tracker rows come in epoch order (every captured run:
// results.csv is written an epoch a line) takes one pass, holding one
// epoch's rows. Any other order (found by the first pass, which then
// stops) takes a pass per window of epochs of at most windowRows rows,
// so that the points come out in epoch order all the same.
type pointGen struct {
	run *ysync.Run
	clk *ysync.Clock
	// ordered: the tracker rows' epochs never decrease in table order
	// (assumed until a pass finds otherwise, see unordered).
	ordered bool
	// windows are the epoch ranges [lo, hi] of the passes over an
	// unordered table.
	windows [][2]int64
	// final are the points logged after the last epoch (the final
	// validation of best.pt), at the last epoch's step.
	final []finalPoint
	names map[string]string // sanitised, one string per metric
}

// finalPoint is a point of the final validation; its step is the last
// epoch's, known once the epochs' points are generated.
type finalPoint struct {
	key   string
	value float64
	ts    int64
}

// epochRow is what a point needs of a scalar row.
type epochRow struct {
	metric string
	value  float64
	ts     int64
}

// errUnordered stops a pass that assumed a table in epoch order.
var errUnordered = errors.New("mlflow: the scalars table is not in epoch order")

func newPointGen(run *ysync.Run, clk *ysync.Clock) *pointGen {
	return &pointGen{run: run, clk: clk, ordered: true, names: map[string]string{}}
}

// unordered makes the windows of a table found out of epoch order, in a
// pass that counts each epoch's rows.
func (g *pointGen) unordered(ctx context.Context) (err error) {
	if g.windows, err = g.run.EpochWindows(ctx, pointRow, windowRows); err != nil {
		return err
	}
	g.ordered = false
	return nil
}

// pointRow: the callback logs the row (a tracker metric of an epoch).
func pointRow(s schemas.ScalarRow) bool {
	return s.Epoch >= 1 && ysync.IsTrackerMetric(s.Metric)
}

// name is the sanitised metric name, made once per metric.
func (g *pointGen) name(metric string) string {
	k, ok := g.names[metric]
	if !ok {
		k = Sanitize(metric)
		g.names[metric] = k
	}
	return k
}

// epochPoints appends an epoch's points to out in the callback's order:
// on_train_epoch_end's lr/* and train/*, then on_fit_epoch_end's
// metrics/* and val/*, each in row order, at step epoch-1.
func (g *pointGen) epochPoints(out []filestore.Metric, epoch int64, rows []epochRow) []filestore.Metric {
	for _, prefix := range []string{"lr/", "train/", "metrics/", "val/"} {
		for _, r := range rows {
			if strings.HasPrefix(r.metric, prefix) {
				out = append(out, filestore.Metric{Key: g.name(r.metric), Value: r.value, Timestamp: r.ts, Step: epoch - 1})
			}
		}
	}
	return out
}

// each calls fn with the points in logging order: one epoch's at a time,
// then the final validation's. A tracker session may hold a metric twice
// at an epoch (ClearML re-logs the last validation): the first is the
// epoch's. fn must not keep the slice.
func (g *pointGen) each(ctx context.Context, fn func(ms []filestore.Metric) error) error {
	var out []filestore.Metric
	last := int64(0)
	emit := func(epoch int64, rows []epochRow) error {
		last = max(last, epoch)
		out = g.epochPoints(out[:0], epoch, rows)
		return fn(out)
	}
	var err error
	if g.ordered {
		err = g.eachOrdered(ctx, emit)
	} else {
		err = g.eachWindow(ctx, emit)
	}
	if err != nil {
		return err
	}
	if len(g.final) == 0 || last == 0 {
		return nil
	}
	out = out[:0]
	for _, f := range g.final {
		out = append(out, filestore.Metric{Key: f.key, Value: f.value, Timestamp: f.ts, Step: last - 1})
	}
	return fn(out)
}

// eachOrdered is each in one pass over a table in epoch order.
func (g *pointGen) eachOrdered(ctx context.Context, emit func(int64, []epochRow) error) error {
	var rows []epochRow
	seen := map[string]bool{}
	cur := int64(0)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		err := emit(cur, rows)
		rows = rows[:0]
		clear(seen)
		return err
	}
	err := g.run.ScanScalars(ctx, func(batch []schemas.ScalarRow) error {
		for _, s := range batch {
			if !pointRow(s) {
				continue
			}
			if s.Epoch < cur {
				return errUnordered
			}
			if s.Epoch != cur {
				if err := flush(); err != nil {
					return err
				}
				cur = s.Epoch
			}
			if seen[s.Metric] {
				continue
			}
			seen[s.Metric] = true
			rows = append(rows, epochRow{s.Metric, s.Value, g.clk.At(s).UnixMilli()})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// eachWindow is each in a pass per window of epochs over a table in any
// order.
func (g *pointGen) eachWindow(ctx context.Context, emit func(int64, []epochRow) error) error {
	type metricEpoch struct {
		metric string
		epoch  int64
	}
	for _, w := range g.windows {
		byEpoch := map[int64][]epochRow{}
		seen := map[metricEpoch]bool{}
		err := g.run.ScanScalars(ctx, func(batch []schemas.ScalarRow) error {
			for _, s := range batch {
				if !pointRow(s) || s.Epoch < w[0] || s.Epoch > w[1] {
					continue
				}
				k := metricEpoch{s.Metric, s.Epoch}
				if seen[k] {
					continue
				}
				seen[k] = true
				byEpoch[s.Epoch] = append(byEpoch[s.Epoch], epochRow{s.Metric, s.Value, g.clk.At(s).UnixMilli()})
			}
			return nil
		})
		if err != nil {
			return err
		}
		epochs := make([]int64, 0, len(byEpoch))
		for e := range byEpoch {
			epochs = append(epochs, e)
		}
		sort.Slice(epochs, func(i, j int) bool { return epochs[i] < epochs[j] })
		for _, e := range epochs {
			if err := emit(e, byEpoch[e]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Points calls fn with the plan's metric points in logging order, a few
// at a time (an epoch's), generated from the archive's scalars table on
// each call: names sanitised ("(" and ")" removed), Step the 0-based
// epoch, Timestamp Unix ms. fn must not keep the slice.
func (p *Plan) Points(ctx context.Context, fn func(ms []filestore.Metric) error) error {
	if p.gen == nil {
		return nil
	}
	return p.gen.each(ctx, fn)
}

// metricSum is what the plan logs of one metric: its name, how many points
// and their digest.
type metricSum struct {
	key string
	sum digest
}

// summarise counts the plan's points, sums each metric's and counts the
// log-batches, in one pass (two more when the table is found out of epoch
// order).
func (p *Plan) summarise(ctx context.Context) error {
	err := p.count(ctx)
	if errors.Is(err, errUnordered) && p.gen.ordered {
		if err = p.gen.unordered(ctx); err == nil {
			err = p.count(ctx)
		}
	}
	return err
}

func (p *Plan) count(ctx context.Context) error {
	index := map[string]int{}
	p.Scalars, p.keys = 0, nil
	n, err := p.batchesOf(ctx, func(b metricBatch) error {
		for _, m := range b.points {
			i, ok := index[m.Key]
			if !ok {
				i = len(p.keys)
				index[m.Key] = i
				p.keys = append(p.keys, metricSum{key: m.Key})
			}
			p.keys[i].sum.add(m)
		}
		p.Scalars += len(b.points)
		return nil
	})
	p.batches = n
	return err
}

// metricBatch is one log-batch of metric points: the index-th, after
// before points of the plan.
type metricBatch struct {
	index, before int
	points        []filestore.Metric
}

// batchesOf cuts the plan's points into log-batches in logging order (at
// most maxBatchMetrics points and maxBatchBytes each) and calls fn with
// each; it returns how many there were. The cut depends only on the
// points, so every call (every sync of the archive) numbers the same
// batches alike: the checkpoint names them. fn must not keep the slice.
func (p *Plan) batchesOf(ctx context.Context, fn func(b metricBatch) error) (int, error) {
	cur := metricBatch{points: make([]filestore.Metric, 0, maxBatchMetrics)}
	size := 0
	flush := func() error {
		if len(cur.points) == 0 {
			return nil
		}
		if err := fn(cur); err != nil {
			return err
		}
		cur.index++
		cur.before += len(cur.points)
		cur.points, size = cur.points[:0], 0
		return nil
	}
	err := p.Points(ctx, func(ms []filestore.Metric) error {
		for _, m := range ms {
			b := entityBytes(m.Key, "") + 40
			if len(cur.points) == maxBatchMetrics || size+b > maxBatchBytes {
				if err := flush(); err != nil {
					return err
				}
			}
			cur.points = append(cur.points, m)
			size += b
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return cur.index, err
}

// errStop ends a pass early.
var errStop = errors.New("mlflow: stop")

// batchSeq yields the plan's log-batches in order, for a pull iterator.
func (p *Plan) batchSeq(ctx context.Context) iter.Seq2[metricBatch, error] {
	return func(yield func(metricBatch, error) bool) {
		_, err := p.batchesOf(ctx, func(b metricBatch) error {
			if !yield(b, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(metricBatch{}, err)
		}
	}
}

// The seeds of the point digests: a process's own, so that no input can
// be made to collide.
var seedA, seedB = maphash.MakeSeed(), maphash.MakeSeed()

// pointBytes are what identifies a point of a metric exactly: step,
// timestamp and the value's bits (so that NaN equals NaN: a point is the same when its bits are).
func pointBytes(m filestore.Metric) [24]byte {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(m.Step))
	binary.LittleEndian.PutUint64(b[8:], uint64(m.Timestamp))
	binary.LittleEndian.PutUint64(b[16:], math.Float64bits(m.Value))
	return b
}

// pointHash is a 64-bit hash of a point of a metric.
func pointHash(m filestore.Metric) uint64 {
	b := pointBytes(m)
	return maphash.Bytes(seedA, b[:])
}

// digest sums a multiset of one metric's points, independent of their
// order: how many, and the sums of two independent 64-bit hashes of each.
// Two multisets with the same digest are taken to be equal (a false match
// takes a 128-bit collision).
type digest struct {
	n    int
	a, b uint64
}

func (d *digest) add(m filestore.Metric) {
	pb := pointBytes(m)
	d.n++
	d.a += maphash.Bytes(seedA, pb[:])
	d.b += maphash.Bytes(seedB, pb[:])
}

// hashBag is a multiset of one metric's point hashes (pointHash) that a
// plan's points are taken from: 9 bytes a point.
type hashBag struct {
	h     []uint64 // sorted
	taken []bool
}

func newHashBag(h []uint64) *hashBag {
	slices.Sort(h)
	return &hashBag{h: h, taken: make([]bool, len(h))}
}

// take takes one point of hash h out of the bag, if it holds one.
func (b *hashBag) take(h uint64) bool {
	for i, _ := slices.BinarySearch(b.h, h); i < len(b.h) && b.h[i] == h; i++ {
		if !b.taken[i] {
			b.taken[i] = true
			return true
		}
	}
	return false
}

// left is how many points were not taken.
func (b *hashBag) left() int {
	n := 0
	for _, t := range b.taken {
		if !t {
			n++
		}
	}
	return n
}

// reset puts every point back.
func (b *hashBag) reset() { clear(b.taken) }
