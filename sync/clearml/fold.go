package clearml

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
)

// The read-back compares the plan with the task's events without holding
// either: both are folded, series by series (type, title, series), into a
// count and an order-independent sum of the events' hashes (id and
// compared content: a scalar's value, a plot's figure). Equal folds are
// equal series. Only a series whose folds differ is compared event by
// event, a bounded group of series at a time, to count its differences and
// name the first, with the rules of sameNumber.

// detailPoints bounds the planned events of the series one detailed
// comparison holds (about 130 bytes each); each group reads the server's
// events of its types again, compared as they come.
const detailPoints = 1 << 18

// seriesFold is an order-independent summary of a series' events.
type seriesFold struct {
	n   int
	sum uint64
	// Planned series: the last iteration streamed and whether one came
	// again (or out of order), when the fold may count an event twice;
	// the iteration and the held event's id that sort first.
	last     int64
	repeats  bool
	minIter  []byte
	firstIDs string
	streamed bool
}

func (f *seriesFold) add(h uint64) {
	f.n++
	f.sum += h
}

// first is the smallest id of the series' events, as sort.Strings orders
// the ids.
func (f *seriesFold) first(k series) string {
	out := f.firstIDs
	if f.streamed {
		it, _ := strconv.ParseInt(string(f.minIter[:len(f.minIter)-1]), 10, 64)
		id := pointID{typ: k.typ, metric: k.metric, variant: k.variant, iter: it}.String()
		if out == "" || id < out {
			out = id
		}
	}
	return out
}

// foldPlan folds the plan's events by series, each id once: a held event
// replaces a streamed one of the same id (a run's final validation
// re-logs the last epoch's metrics), as the server overwrites it.
func (s *replay) foldPlan(ctx context.Context) (map[series]*seriesFold, error) {
	p := s.plan
	held := map[pointID]event{}
	var order []pointID
	hold := func(e event) {
		id := eventPointID(e)
		if _, ok := held[id]; !ok {
			order = append(order, id)
		}
		held[id] = e
	}
	for _, t := range p.timed {
		hold(t.e)
	}
	for _, e := range p.Events {
		hold(e)
	}
	want := map[series]*seriesFold{}
	get := func(k series) *seriesFold {
		f := want[k]
		if f == nil {
			f = &seriesFold{}
			want[series{strings.Clone(k.typ), strings.Clone(k.metric), strings.Clone(k.variant)}] = f
		}
		return f
	}
	var num []byte
	err := p.each(ctx, func(pt *point) error {
		if pt.e != nil {
			return nil // folded below
		}
		id := pt.id()
		if _, ok := held[id]; ok {
			return nil
		}
		f := get(id.series())
		if f.streamed && pt.iter <= f.last {
			f.repeats = true
		}
		num = append(strconv.AppendInt(num[:0], pt.iter, 10), '|')
		if !f.streamed || string(num) < string(f.minIter) {
			f.minIter = append(f.minIter[:0], num...)
		}
		f.streamed, f.last = true, pt.iter
		f.add(pt.sum(id))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range order {
		f := get(id.series())
		f.add(eventSum(id, held[id]))
		if ids := id.String(); f.firstIDs == "" || ids < f.firstIDs {
			f.firstIDs = ids
		}
	}
	// A series that streams an iteration twice: count each id once.
	var again []series
	for k, f := range want {
		if f.repeats {
			again = append(again, k)
		}
	}
	err = s.inGroups(want, again, func(group map[series]bool) error {
		planned, err := s.planPoints(ctx, group)
		if err != nil {
			return err
		}
		for k := range group {
			*want[k] = seriesFold{}
		}
		for id, v := range planned {
			f := want[id.series()]
			f.add(v.sum)
			if ids := id.String(); f.firstIDs == "" || ids < f.firstIDs {
				f.firstIDs = ids
			}
		}
		return nil
	})
	return want, err
}

// inGroups calls fn with the series in groups of up to detailPoints
// planned events (a larger series alone), in a stable order.
func (s *replay) inGroups(want map[series]*seriesFold, list []series, fn func(map[series]bool) error) error {
	slices.SortFunc(list, func(a, b series) int {
		return strings.Compare(a.typ+"\x00"+a.metric+"\x00"+a.variant, b.typ+"\x00"+b.metric+"\x00"+b.variant)
	})
	group, n := map[series]bool{}, 0
	for _, k := range list {
		if len(group) > 0 && n+want[k].n > detailPoints {
			if err := fn(group); err != nil {
				return err
			}
			group, n = map[series]bool{}, 0
		}
		group[k] = true
		n += want[k].n
	}
	if len(group) > 0 {
		return fn(group)
	}
	return nil
}

// detailed is what a detailed comparison keeps of a planned event, and
// what it found of it on the server.
type detailed struct {
	value float64
	plot  string
	sum   uint64
	found uint8
}

// What a detailed comparison found of a planned event.
const (
	unseen  = iota // not on the server
	found          // on the server, the same
	differs        // on the server, another value or figure
)

func detail(id pointID, value float64, plot string) detailed {
	if id.typ != clearmloffline.EventPlot {
		plot = ""
	}
	return detailed{value: value, plot: plot, sum: sum(id, value, plot)}
}

// planPoints returns the plan's events of the series in group, by id; a
// later event replaces an earlier one of the same id.
func (s *replay) planPoints(ctx context.Context, group map[series]bool) (map[pointID]detailed, error) {
	out := map[pointID]detailed{}
	err := s.plan.each(ctx, func(pt *point) error {
		id := pt.id()
		if !group[id.series()] {
			return nil
		}
		id.metric, id.variant = strings.Clone(id.metric), strings.Clone(id.variant)
		if pt.e != nil {
			p, _ := pt.e["plot_str"].(string)
			out[id] = detail(id, toFloat(pt.e["value"]), p)
		} else {
			out[id] = detail(id, pt.value, "")
		}
		return nil
	})
	return out, err
}

// readTypes are the event types a read-back reads, in its order.
var readTypes = []string{clearmloffline.EventScalar, clearmloffline.EventDebugImage, clearmloffline.EventPlot}

// serverEvents calls fn with each of the task's events (of the types of
// want) in a series of want; reset forgets what fn was given of the type.
func (s *replay) serverEvents(ctx context.Context, types []string, want func(series) bool, fn func(id pointID, e map[string]any), reset func(typ string)) error {
	for _, typ := range types {
		err := s.c.taskEvents(ctx, s.t.ID, typ, func(e map[string]any) error {
			id := eventPointID(e)
			if want(id.series()) {
				fn(id, e)
			}
			return nil
		}, func() { reset(typ) })
		if err != nil {
			return err
		}
	}
	return nil
}

// compareEvents compares the task's events with the plan's and adds the
// ones missing or different to d.
func (s *replay) compareEvents(ctx context.Context, d *readBackDiff) error {
	want, err := s.foldPlan(ctx)
	if err != nil {
		return err
	}
	have := map[series]*seriesFold{}
	err = s.serverEvents(ctx, readTypes, func(k series) bool { return want[k] != nil },
		func(id pointID, e map[string]any) {
			k := id.series()
			f := have[k]
			if f == nil {
				f = &seriesFold{}
				have[k] = f
			}
			f.add(eventSum(id, e))
		},
		func(typ string) {
			for k := range have {
				if k.typ == typ {
					delete(have, k)
				}
			}
		})
	if err != nil {
		return err
	}
	var differ []series
	for k, w := range want {
		d.planned += w.n
		d.plannedByType[k.typ] += w.n
		h := have[k]
		switch {
		case h != nil && h.n == w.n && h.sum == w.sum:
		case h == nil:
			d.missing(k.typ, w.n, w.first(k))
		default:
			differ = append(differ, k)
		}
	}
	return s.inGroups(want, differ, func(group map[series]bool) error {
		planned, err := s.planPoints(ctx, group)
		if err != nil {
			return err
		}
		types := map[string]bool{}
		for k := range group {
			types[k.typ] = true
		}
		var read []string
		for _, t := range readTypes {
			if types[t] {
				read = append(read, t)
			}
		}
		// The server's events of the group are compared as they come,
		// not held: each planned event records what was found of it.
		err = s.serverEvents(ctx, read, func(k series) bool { return group[k] },
			func(id pointID, e map[string]any) {
				w, ok := planned[id]
				if !ok {
					return // not planned: no difference
				}
				p, _ := e["plot_str"].(string)
				g := detail(id, toFloat(e["value"]), p)
				switch {
				case g.sum == w.sum:
					w.found = found
				case id.typ == clearmloffline.EventScalar && !sameNumber(g.value, w.value):
					w.found = differs
				case id.typ == clearmloffline.EventPlot && g.plot != w.plot:
					w.found = differs
				default:
					w.found = found
				}
				planned[id] = w
			},
			func(typ string) {
				for id, w := range planned {
					if id.typ == typ {
						w.found = unseen
						planned[id] = w
					}
				}
			})
		if err != nil {
			return err
		}
		for id, w := range planned {
			switch {
			case w.found == unseen:
				d.missing(id.typ, 1, id.String())
			case w.found == differs && id.typ == clearmloffline.EventPlot:
				d.missing(id.typ, 1, id.String()+" (figure differs)")
			case w.found == differs:
				d.missing(id.typ, 1, id.String()+" (value differs)")
			}
		}
		return nil
	})
}
