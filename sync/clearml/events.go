package clearml

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// point is one event of a plan as its generator hands it out: a scalar
// streamed from the scalars table (e nil), or an event the plan holds (e).
// A generator reuses the point it hands out: keep a copy.
type point struct {
	iter            int64
	metric, variant string
	value           float64
	// ts is the event's timestamp (ms); at orders a session's scalars
	// among its images.
	ts int64
	at time.Time
	e  event
}

// heldPoint is the point of an event the plan holds.
func heldPoint(e event) point {
	m, _ := e["metric"].(string)
	v, _ := e["variant"].(string)
	return point{iter: toInt(e["iter"]), metric: m, variant: v, e: e}
}

// typ is the event's type.
func (pt *point) typ() string {
	if pt.e == nil {
		return clearmloffline.EventScalar
	}
	t, _ := pt.e["type"].(string)
	return t
}

// pointID identifies an event as the server does (the fields of eventID),
// comparable without building the string.
type pointID struct {
	typ, metric, variant string
	iter                 int64
	key                  string
}

// series is the title and series an event belongs to.
type series struct{ typ, metric, variant string }

func (id pointID) series() series { return series{id.typ, id.metric, id.variant} }

// String is eventID's form of the id.
func (id pointID) String() string {
	s := id.typ + "|" + strconv.FormatInt(id.iter, 10) + "|" + id.metric + "|" + id.variant
	if id.key != "" {
		s += "|" + id.key
	}
	return s
}

func (pt *point) id() pointID {
	id := pointID{typ: pt.typ(), metric: pt.metric, variant: pt.variant, iter: pt.iter}
	if pt.e != nil {
		id.key, _ = pt.e["key"].(string)
	}
	return id
}

// eventPointID is the id of an event read from the server (or held).
func eventPointID(e map[string]any) pointID {
	id := pointID{typ: str(e["type"]), metric: str(e["metric"]), variant: str(e["variant"]), iter: toInt(e["iter"])}
	id.key, _ = e["key"].(string)
	return id
}

// str is v as fmt.Sprint writes it, without allocating for a string.
func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// sum hashes an event's id and what a read-back compares of it: a
// scalar's value (0 for -0), a plot's figure. Equal events hash equal,
// held or streamed, planned or read from the server.
func sum(id pointID, value float64, plot string) uint64 {
	var d xxhash.Digest
	var n [8]byte
	id.hash(&d)
	switch id.typ {
	case clearmloffline.EventScalar:
		if value == 0 {
			value = 0 // -0 equals 0
		}
		binary.LittleEndian.PutUint64(n[:], math.Float64bits(value))
		_, _ = d.Write(n[:])
	case clearmloffline.EventPlot:
		_, _ = d.WriteString(plot)
	}
	return d.Sum64()
}

// hash resets d and writes the id to it.
func (id pointID) hash(d *xxhash.Digest) {
	d.Reset()
	var n [8]byte
	for _, s := range []string{id.typ, id.metric, id.variant, id.key} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		_, _ = d.Write(n[:])
		_, _ = d.WriteString(s)
	}
	binary.LittleEndian.PutUint64(n[:], uint64(id.iter))
	_, _ = d.Write(n[:])
}

// idSum hashes the id alone.
func (id pointID) idSum() uint64 {
	var d xxhash.Digest
	id.hash(&d)
	return d.Sum64()
}

// eventSum is sum of an event map (held, or read from the server).
func eventSum(id pointID, e map[string]any) uint64 {
	p, _ := e["plot_str"].(string)
	return sum(id, toFloat(e["value"]), p)
}

// pointSum is sum of a plan's point.
func (pt *point) sum(id pointID) uint64 {
	if pt.e != nil {
		return eventSum(id, pt.e)
	}
	return sum(id, pt.value, "")
}

// contentSum hashes what since compares: the whole event but its
// timestamp. Scalars hash by their fields, so that a held event and a
// streamed one of the same content hash equal.
func (pt *point) contentSum() uint64 {
	if pt.typ() == clearmloffline.EventScalar {
		return pt.sum(pt.id())
	}
	return xxhash.Sum64String(eventContent(pt.e))
}

// timedEvent is a held event a session plan merges into its streamed
// scalars by time.
type timedEvent struct {
	at time.Time
	e  event
}

// each calls fn with every event of the plan, in the order they are sent:
// the streamed scalars with the timed events merged in (an event goes
// before the first scalar logged after it), then the held events. Points
// skip leaves out are not handed out.
func (p *plan) each(ctx context.Context, fn func(pt *point) error) error {
	emit := fn
	if p.skip != nil {
		emit = func(pt *point) error {
			if p.skip(pt) {
				return nil
			}
			return fn(pt)
		}
	}
	i := 0
	held := func(e event) error {
		pt := heldPoint(e)
		return emit(&pt)
	}
	if p.scalars != nil {
		err := p.scalars(ctx, func(pt *point) error {
			for ; i < len(p.timed) && p.timed[i].at.Before(pt.at); i++ {
				if err := held(p.timed[i].e); err != nil {
					return err
				}
			}
			return emit(pt)
		})
		if err != nil {
			return err
		}
	}
	for ; i < len(p.timed); i++ {
		if err := held(p.timed[i].e); err != nil {
			return err
		}
	}
	for _, e := range p.Events {
		if err := held(e); err != nil {
			return err
		}
	}
	return nil
}

// eachLog calls fn with the plan's console log events.
func (p *plan) eachLog(_ context.Context, fn func(pt *point) error) error {
	for _, e := range p.Logs {
		pt := heldPoint(e)
		if err := fn(&pt); err != nil {
			return err
		}
	}
	return nil
}

// count adds the streamed scalars to c (the held events are counted when
// the plan is built).
func (p *plan) count(ctx context.Context) (ysync.Plan, error) {
	c := p.Counts
	if p.scalars == nil {
		return c, nil
	}
	err := p.scalars(ctx, func(pt *point) error {
		c.Scalars++ // streamed scalars are never single values
		return nil
	})
	return c, err
}

// lineEncoder writes events as the JSON lines json.Marshal writes for
// their maps (keys sorted); a streamed scalar is written without making
// its map, its names encoded once.
type lineEncoder struct {
	task  string
	names map[string][]byte
	buf   []byte
}

func newLineEncoder(task string) *lineEncoder {
	return &lineEncoder{task: task, names: map[string][]byte{}}
}

// maxNames bounds the encoder's cache of encoded names.
const maxNames = 1 << 14

func (le *lineEncoder) str(b []byte, s string) []byte {
	if q, ok := le.names[s]; ok {
		return append(b, q...)
	}
	q, _ := json.Marshal(s)
	if len(le.names) < maxNames {
		le.names[strings.Clone(s)] = q // s may be a scan's buffer
	}
	return append(b, q...)
}

// line returns pt's JSON line (without the newline), valid until the
// next call.
func (le *lineEncoder) line(pt *point) ([]byte, error) {
	if pt.e != nil {
		b, err := json.Marshal(pt.e)
		if err != nil {
			return nil, fmt.Errorf("encoding event %v/%v: %v", pt.e["metric"], pt.e["variant"], err)
		}
		return b, nil
	}
	b := append(le.buf[:0], `{"iter":`...)
	b = strconv.AppendInt(b, pt.iter, 10)
	b = append(b, `,"metric":`...)
	b = le.str(b, pt.metric)
	b = append(b, `,"task":`...)
	b = le.str(b, le.task)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, pt.ts, 10)
	b = append(b, `,"type":"`+clearmloffline.EventScalar+`","value":`...)
	b = appendFloat(b, pt.value)
	b = append(b, `,"variant":`...)
	b = le.str(b, pt.variant)
	b = append(b, '}')
	le.buf = b
	return b, nil
}

// appendFloat appends f as encoding/json writes a float64 (f is finite).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// generator hands out a plan's events (plan.each, plan.eachLog).
type generator func(ctx context.Context, fn func(pt *point) error) error

// batchLines encodes the events of gen as JSON lines and calls emit with
// each batch of whole lines under limit bytes (a single longer line is a
// batch of its own) and the number of events in it. body is reused after
// emit returns. With sizeOnly, body is nil: only the batches' sizes are
// worked out (a count before sending).
func batchLines(ctx context.Context, le *lineEncoder, gen generator, limit int, sizeOnly bool, emit func(body []byte, n int) error) error {
	var cur []byte
	size, n := 0, 0
	err := gen(ctx, func(pt *point) error {
		line, err := le.line(pt)
		if err != nil {
			return err
		}
		if size > 0 && size+len(line)+1 > limit {
			if err := emit(cur, n); err != nil {
				return err
			}
			cur, size, n = cur[:0], 0, 0
		}
		if !sizeOnly {
			cur = append(append(cur, line...), '\n')
		}
		size += len(line) + 1
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if n > 0 {
		return emit(cur, n)
	}
	return nil
}
