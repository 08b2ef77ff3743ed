package comet

import (
	"container/heap"
	"context"
	"encoding/json"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/schemas/cometoffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// buildSession replays an archive captured from a Comet offline zip as
// the zip logged it: its parameters and others, every metric point with
// its step, epoch, context and time, its images with their annotation
// layers, its model and assets, console output and the system messages,
// in the order of their timestamps.
func buildSession(ctx context.Context, run *ysync.Run, o Options) (*Log, error) {
	info := run.Info
	l := &Log{Workspace: o.Workspace, Project: o.Project, Name: o.Name, RunID: run.RunID(),
		Tags: append(append([]string(nil), info.Tags...), o.Tags...)}
	if l.Project == "" {
		l.Project = ProjectName(info.Project)
	}
	if l.Name == "" {
		l.Name = run.Name()
	}
	clk := ysync.NewClock(run)
	l.Start, l.End = clk.Start, clk.End()
	var items []item
	add := func(at *time.Time, c Call) {
		t := l.Start
		if at != nil {
			t = *at
		}
		c.Time = t
		items = append(items, item{t, c})
	}

	// Parameters at the times the session logged them (format 1.3), one
	// call per time.
	var group []KV
	var groupAt *time.Time
	for _, p := range run.Params {
		if p.Section != "args" {
			continue
		}
		if len(group) > 0 && !sameTime(p.WallTime, groupAt) {
			add(groupAt, Call{Kind: KindParameters, Params: group})
			group = nil
		}
		group, groupAt = append(group, KV{p.Key, paramValue(p)}), p.WallTime
	}
	if len(group) > 0 {
		add(groupAt, Call{Kind: KindParameters, Params: group})
	}
	var others []KV
	named := false
	raw := map[string]map[string]map[string]any{} // type → ordinal → payload
	for _, p := range run.Params {
		switch {
		case p.Section == "others" && p.Key == "Name":
			named = true
		case p.Section == "others" && p.Key != RunIDOther && p.Key != FinalOther:
			others = append(others, KV{p.Key, paramValue(p)})
		case strings.HasPrefix(p.Section, "comet:"):
			typ := strings.TrimPrefix(p.Section, "comet:")
			n, field, _ := strings.Cut(p.Key, ".")
			if raw[typ] == nil {
				raw[typ] = map[string]map[string]any{}
			}
			if raw[typ][n] == nil {
				raw[typ][n] = map[string]any{}
			}
			v := paramValue(p)
			raw[typ][n][field] = v
		}
	}
	if len(others) > 0 {
		add(nil, Call{Kind: KindOthers, Others: others})
	}
	l.Unnamed = !named && o.Name == ""
	if validKey(info.SessionID) {
		l.Key = info.SessionID
	}
	// The gap items: as the zip recorded them when a yoloarchive replay
	// wrote it (kept among the others above), else the archive's.
	if !hasOther(others, ysync.GapsOther) {
		l.Gaps = ysync.GapItems(run.Gaps)
	}
	types := make([]string, 0, len(raw))
	for t := range raw {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		ns := make([]string, 0, len(raw[t]))
		for n := range raw[t] {
			ns = append(ns, n)
		}
		sort.Slice(ns, func(i, j int) bool { a, _ := strconv.Atoi(ns[i]); b, _ := strconv.Atoi(ns[j]); return a < b })
		for _, n := range ns {
			add(nil, Call{Kind: KindRaw, RawType: t, RawPayload: raw[t][n]})
		}
	}
	// The metric points come next in the order the calls are sorted
	// (see sessionPoints); the items that follow them:
	pre := items
	items = nil
	images := map[string]bool{}
	for _, img := range run.Images {
		if img.Kind == "image" && img.Blob != "" {
			images[img.FileName] = true
		}
	}
	byFile := map[string][]schemas.AnnotationRow{}
	err := run.ScanAnnotations(ctx, func(rows []schemas.AnnotationRow) error {
		for _, a := range rows {
			if images[a.ImageFile] {
				byFile[a.ImageFile] = append(byFile[a.ImageFile], a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, img := range run.Images {
		if img.Kind != "image" || img.Blob == "" {
			continue
		}
		add(img.WallTime, Call{Kind: KindImage, Name: img.Series, Step: img.Step, Context: img.Group,
			Annotations: sessionLayers(byFile[img.FileName]), Upload: recorded(img.Record),
			File: &File{Name: img.Series + path.Ext(img.FileName), Digest: img.Blob, Size: img.Size}})
	}
	for _, a := range run.Assets {
		if a.Record == "" || a.Blob == "" {
			continue
		}
		var rec cometoffline.Payload
		if json.Unmarshal([]byte(a.Record), &rec) != nil {
			continue
		}
		str := func(k string) string { s, _ := rec.Additional[k].(string); return s }
		num := func(k string) *int64 {
			if f, ok := rec.Additional[k].(float64); ok {
				return Int64(int64(f))
			}
			return nil
		}
		over, _ := rec.Additional["overwrite"].(bool)
		name := str("fileName")
		if name == "" {
			name = path.Base(a.FileName)
		}
		c := Call{Kind: KindAsset, Step: num("step"), Epoch: num("epoch"), Overwrite: over, Context: str("context"),
			File: &File{Name: name, Digest: a.Blob, Size: a.Size}, AssetType: rec.UploadType, Upload: recorded(a.Record)}
		switch rec.UploadType {
		case cometoffline.UploadModelElement:
			c.Kind, c.Name, c.AssetType = KindModel, str("groupingName"), ""
		case cometoffline.UploadConfusionMatrix:
			c.Kind, c.AssetType = KindConfusionMatrix, ""
		}
		var at *time.Time
		if rec.LocalTimestamp > 0 {
			t := time.UnixMilli(rec.LocalTimestamp).UTC()
			at = &t
		}
		add(at, c)
	}
	for _, lg := range run.Logs {
		add(lg.Time, Call{Kind: KindOutput, Output: lg.Message, Stderr: lg.Level == "stderr" || lg.Level == "error"})
	}
	post := items
	// The calls in the order of their times, those of a time in the
	// order above (a stable sort): the items before the points, the
	// points in table order, the items after. The points are generated
	// from the table each time the Log is walked.
	byTime := func(items []item) {
		sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	}
	byTime(pre)
	byTime(post)
	small := append(append([]item(nil), pre...), post...)
	byTime(small)
	for _, it := range small {
		l.Calls = append(l.Calls, it.call)
	}
	sorted, err := pointsSorted(ctx, run, l.Start)
	if err != nil {
		return nil, err
	}
	// The epoch as logged (format 1.3); before, epoch 0 stood for both 0
	// and none, and is written as none.
	logged := formatMinor(run) >= schemas.ColumnsSince["scalars.session_epoch"]
	point := func(s schemas.ScalarRow) Call {
		c := Call{Kind: KindMetrics, Metrics: []Metric{{s.Metric, s.Value}}, Step: s.Step, Context: s.Group, Time: l.Start}
		switch {
		case logged:
			c.Epoch = s.SessionEpoch
		case s.Epoch != 0:
			c.Epoch = Int64(s.Epoch)
		}
		if s.WallTime != nil {
			c.Time = *s.WallTime
		}
		return c
	}
	l.gen = func(ctx context.Context, yield func(Call) error) error {
		m := merger{pre: pre, post: post, yield: yield}
		if sorted {
			err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
				for _, s := range rows {
					c := point(s)
					if err := m.point(c); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		} else if err := sessionWindows(ctx, run, point, m.point); err != nil {
			return err
		}
		return m.rest()
	}
	return l, nil
}

// item is a call of a session and when it was logged.
type item struct {
	at   time.Time
	call Call
}

// merger merges the metric points, in the order of their times, with the
// items logged before them (pre) and after them (post) in the order of a
// stable sort of pre, the points and post by time.
type merger struct {
	pre, post []item
	yield     func(Call) error
}

// until yields the items that come before a point at t.
func (m *merger) until(t time.Time) error {
	for {
		var next *[]item
		switch {
		case len(m.pre) > 0 && !m.pre[0].at.After(t) && (len(m.post) == 0 || !m.pre[0].at.After(m.post[0].at)):
			next = &m.pre
		case len(m.post) > 0 && m.post[0].at.Before(t):
			next = &m.post
		case len(m.pre) > 0 && !m.pre[0].at.After(t):
			next = &m.pre
		default:
			return nil
		}
		it := (*next)[0]
		*next = (*next)[1:]
		if err := m.yield(it.call); err != nil {
			return err
		}
	}
}

// point yields the items before c, then c.
func (m *merger) point(c Call) error {
	if err := m.until(c.Time); err != nil {
		return err
	}
	return m.yield(c)
}

// rest yields the items after the last point.
func (m *merger) rest() error {
	for len(m.pre) > 0 || len(m.post) > 0 {
		if len(m.post) == 0 || len(m.pre) > 0 && !m.pre[0].at.After(m.post[0].at) {
			if err := m.yield(m.pre[0].call); err != nil {
				return err
			}
			m.pre = m.pre[1:]
			continue
		}
		if err := m.yield(m.post[0].call); err != nil {
			return err
		}
		m.post = m.post[1:]
	}
	return nil
}

// pointsSorted reports whether the session's points are in the order of
// their times (a point without one counts as logged at start), as a
// session records them: one pass then generates them in order.
func pointsSorted(ctx context.Context, run *ysync.Run, start time.Time) (bool, error) {
	sorted, last := true, time.Time{}
	err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
		for _, s := range rows {
			t := start
			if s.WallTime != nil {
				t = *s.WallTime
			}
			if t.Before(last) {
				sorted = false
				return errStop
			}
			last = t
		}
		return nil
	})
	if err == errStop {
		err = nil
	}
	return sorted, err
}

// sessionWindow is the most points sessionWindows holds (a variable for
// tests).
var sessionWindow = 1 << 17

// sessionWindows calls fn with the session's points in the order of
// their times, those of a time in table order, when the table is not in
// that order: one pass over the table for each window of the
// sessionWindow earliest points not yet generated, kept in a heap.
func sessionWindows(ctx context.Context, run *ysync.Run, point func(schemas.ScalarRow) Call, fn func(Call) error) error {
	var last *windowKey
	for {
		h := &windowHeap{}
		i := int64(0)
		err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
			for _, s := range rows {
				c := point(s)
				k := windowKey{c.Time, i}
				i++
				if last != nil && !last.less(k) {
					continue
				}
				if h.Len() == sessionWindow {
					if !k.less((*h)[0].key) {
						continue
					}
					heap.Pop(h)
				}
				heap.Push(h, windowPoint{k, c})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if h.Len() == 0 {
			return nil
		}
		points := []windowPoint(*h)
		sort.Slice(points, func(i, j int) bool { return points[i].key.less(points[j].key) })
		for _, p := range points {
			if err := fn(p.call); err != nil {
				return err
			}
		}
		last = &points[len(points)-1].key
	}
}

// windowKey orders the points: by time, then by row.
type windowKey struct {
	at  time.Time
	row int64
}

func (a windowKey) less(b windowKey) bool {
	return a.at.Before(b.at) || a.at.Equal(b.at) && a.row < b.row
}

type windowPoint struct {
	key  windowKey
	call Call
}

// windowHeap is a max-heap of points (the latest on top).
type windowHeap []windowPoint

func (h windowHeap) Len() int           { return len(h) }
func (h windowHeap) Less(i, j int) bool { return h[j].key.less(h[i].key) }
func (h windowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *windowHeap) Push(x any)        { *h = append(*h, x.(windowPoint)) }
func (h *windowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// sessionLayers rebuilds an image's annotation layers, in their order.
func sessionLayers(rows []schemas.AnnotationRow) []Layer {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Index < rows[j].Index })
	var out []Layer
	at := map[string]int{}
	for _, a := range rows {
		i, ok := at[a.Layer]
		if !ok {
			i = len(out)
			at[a.Layer] = i
			out = append(out, Layer{Name: a.Layer})
		}
		an := Annotation{Label: a.Label, Points: a.Polygons}
		if a.Score != nil {
			an.Score = *a.Score * 100
		}
		if a.BoxX != nil && a.BoxY != nil && a.BoxW != nil && a.BoxH != nil {
			an.Boxes = [][]float64{{*a.BoxX, *a.BoxY, *a.BoxW, *a.BoxH}}
		}
		out[i].Data = append(out[i].Data, an)
	}
	return out
}

// recorded decodes the file_upload payload a captured session recorded,
// numbers as written; nil when there is none.
func recorded(record string) map[string]any {
	if record == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(record))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m["upload_type"] == nil {
		return nil
	}
	return m
}

// sameTime reports whether two optional times are equal.
func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// validKey reports whether s can be a Comet experiment key: 32 to 50
// letters and digits (utils.is_valid_experiment_key).
func validKey(s string) bool {
	if len(s) < 32 || len(s) > 50 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// formatMinor is the minor format version of the run's archive (a
// chain's last link).
func formatMinor(run *ysync.Run) int {
	if run.Archive == nil {
		return schemas.FormatMinor
	}
	_, minor, err := schemas.ParseFormatVersion(run.Archive.Header.FormatVersion)
	if err != nil {
		return 0
	}
	return minor
}

func hasOther(kvs []KV, key string) bool {
	for _, kv := range kvs {
		if kv.Key == key {
			return true
		}
	}
	return false
}
