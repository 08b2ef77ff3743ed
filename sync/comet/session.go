package comet

import (
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
	type item struct {
		at   time.Time
		call Call
	}
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
	// The epoch as logged (format 1.3); before, epoch 0 stood for both 0
	// and none, and is written as none.
	logged := formatMinor(run) >= schemas.ColumnsSince["scalars.session_epoch"]
	err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
		for _, s := range rows {
			c := Call{Kind: KindMetrics, Metrics: []Metric{{s.Metric, s.Value}}, Step: s.Step, Context: s.Group}
			switch {
			case logged:
				c.Epoch = s.SessionEpoch
			case s.Epoch != 0:
				c.Epoch = Int64(s.Epoch)
			}
			add(s.WallTime, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	byFile := map[string][]schemas.AnnotationRow{}
	err = run.ScanAnnotations(ctx, func(rows []schemas.AnnotationRow) error {
		for _, a := range rows {
			byFile[a.ImageFile] = append(byFile[a.ImageFile], a)
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
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	for _, it := range items {
		l.Calls = append(l.Calls, it.call)
	}
	return l, nil
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
