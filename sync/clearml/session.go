package clearml

import (
	"context"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// holdSessionScalars makes buildSessionPlan hold a session's scalars as
// it does those logged out of time order (tests: both ways give the same
// events).
var holdSessionScalars = false

// buildSessionPlan replays an archive captured from a ClearML offline
// session as the SDK's importer would (clearml-api.md §5.3): the session's
// own titles, series, iterations and timestamps, its hyperparameter
// sections, tags, single values, images, plots and console log, addressed
// to task taskID.
func buildSessionPlan(ctx context.Context, run *ysync.Run, o ysync.Options, taskID string, addr addressing) (*plan, error) {
	info := run.Info
	v := ysync.CallbackVersion(info, o.Version)
	p := &plan{Version: v, Project: projectName(info, o, v), Name: o.Name}
	if p.Name == "" {
		p.Name = run.Name()
	}
	for len(p.Name) < 3 {
		p.Name += "_"
	}
	p.Tags = append(append([]string{}, info.Tags...), o.Tags...)
	p.Hyperparams = sessionHyperparams(run.Params)
	p.task = taskID
	prefix, _ := p.address(run, taskID, addr)

	// Scalars and images in the order the session logged them: the
	// images (held) merge into the scalars streamed from the table, which
	// a session logs in time order. Scalars out of time order are held
	// and sorted with the images instead.
	add := func(e event) {
		e["task"] = taskID
		p.Events = append(p.Events, e)
	}
	at := func(t *time.Time) time.Time {
		if t != nil {
			return *t
		}
		return p.End
	}
	stream := func(ctx context.Context, fn func(*point) error) error {
		var pt point
		return run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
			for _, s := range rows {
				if s.Step == nil {
					continue
				}
				value, _ := ysync.JSONFloat(s.Value)
				title := s.Group
				if title == "" {
					title = s.Metric
				}
				t := at(s.WallTime)
				pt = point{iter: *s.Step, metric: title, variant: s.Metric, value: value, ts: t.UnixMilli(), at: t}
				if err := fn(&pt); err != nil {
					return err
				}
			}
			return nil
		})
	}
	inOrder, first := true, true
	var last time.Time
	err := stream(ctx, func(pt *point) error {
		if !first && pt.at.Before(last) {
			inOrder = false
		}
		first, last = false, pt.at
		return nil
	})
	if err != nil {
		return nil, err
	}
	var imgs []schemas.ImageRow
	for _, img := range run.Images {
		if img.Kind != "" && img.Blob != "" {
			imgs = append(imgs, img)
		}
	}
	sort.SliceStable(imgs, func(i, j int) bool { return at(imgs[i].WallTime).Before(at(imgs[j].WallTime)) })
	images := make([]timedEvent, len(imgs))
	counters := map[string]int{}
	for i, img := range imgs {
		it := timedEvent{at: at(img.WallTime)}
		iter := int64(0)
		if img.Step != nil {
			iter = *img.Step
		}
		var ev event
		if img.Kind == "plot" {
			img.Name = img.Group
			if err := plotEvent(p, img, prefix, addr, it.at, func(e event) {
				e["iter"], e["variant"] = iter, img.Series
				ev = e
			}); err != nil {
				return nil, err
			}
		} else {
			ext := path.Ext(img.FileName)
			ck := img.Group + "\x00" + img.Series
			key := metricsKey(prefix, img.Group, img.Series, counters[ck], ext)
			counters[ck]++
			p.Uploads = append(p.Uploads, upload{Key: key, Digest: img.Blob, Size: img.Size, ContentType: img.MediaType})
			ev = event{"type": clearmloffline.EventDebugImage, "iter": iter, "metric": img.Group, "variant": img.Series,
				"key": key, "url": addr.imageURL(key), "timestamp": it.at.UnixMilli()}
			p.Counts.Images++
		}
		ev["task"] = taskID
		it.e = ev
		images[i] = it
	}
	if inOrder && !holdSessionScalars {
		p.scalars, p.timed = stream, images
	} else {
		var all []timedEvent
		err := stream(ctx, func(pt *point) error {
			all = append(all, timedEvent{at: pt.at, e: event{"type": clearmloffline.EventScalar, "iter": pt.iter, "metric": strings.Clone(pt.metric),
				"variant": strings.Clone(pt.variant), "value": pt.value, "timestamp": pt.ts, "task": taskID}})
			p.Counts.Scalars++
			return nil
		})
		if err != nil {
			return nil, err
		}
		all = append(all, images...)
		sort.SliceStable(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
		for _, it := range all {
			p.Events = append(p.Events, it.e)
		}
	}
	for _, s := range run.Summary {
		title, variant := "Summary", s.Key
		value, _ := ysync.JSONFloat(s.Value)
		add(event{"type": clearmloffline.EventScalar, "iter": int64(singleValueIter), "metric": title, "variant": variant,
			"value": value, "timestamp": at(s.WallTime).UnixMilli()})
		p.Counts.SingleValues++
	}
	for _, l := range run.Logs {
		e := event{"type": clearmloffline.EventLog, "timestamp": at(l.Time).UnixMilli(), "level": l.Level, "msg": l.Message, "task": taskID}
		if l.Worker != "" {
			e["worker"] = l.Worker
		}
		p.Logs = append(p.Logs, e)
	}
	if best, ok := run.Asset(schemas.RoleWeightsBest); ok && best.Blob != "" {
		p.Model = &upload{Key: archive.SafeKey(prefix + "/models/" + path.Base(best.FileName)), Digest: best.Blob, Size: best.Size,
			ContentType: "application/octet-stream"}
		p.ModelComment = "Created by task id: " + taskID
		p.Counts.ModelBytes = best.Size
	}
	p.Counts.Project, p.Counts.Name = p.Project, p.Name
	p.Counts.Parameters = len(p.Hyperparams["General"])
	for _, u := range p.Uploads {
		p.Counts.UploadBytes += u.Size
	}
	p.Counts.UploadBytes += p.Counts.ModelBytes
	return p, nil
}

// sessionHyperparams rebuilds a session's hyperparameter sections:
// "args" is General, "clearml:<section>" the others, each value as the
// SDK stored it.
func sessionHyperparams(params []schemas.ParamRow) map[string]map[string]clearmloffline.Param {
	out := map[string]map[string]clearmloffline.Param{}
	for _, prm := range params {
		sec := ""
		switch {
		case prm.Section == "args":
			sec = "General"
		case strings.HasPrefix(prm.Section, "clearml:"):
			sec = strings.TrimPrefix(prm.Section, "clearml:")
		default:
			continue
		}
		value, typ := prm.Text, prm.Type
		switch prm.Type {
		case schemas.TypeNull:
			value, typ = "", ""
		case schemas.TypeString:
			typ = "str"
		case schemas.TypeList, schemas.TypeMixed:
			typ = "list"
		}
		if out[sec] == nil {
			out[sec] = map[string]clearmloffline.Param{}
		}
		out[sec][prm.Key] = clearmloffline.Param{Section: sec, Name: prm.Key, Value: value, Type: typ}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
