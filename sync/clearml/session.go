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
	prefix, _ := p.address(run, taskID, addr)

	// Scalars and images in the order the session logged them.
	type item struct {
		at time.Time
		ev func()
	}
	var items []item
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
	err := run.ScanScalars(ctx, func(rows []schemas.ScalarRow) error {
		for _, s := range rows {
			if s.Step == nil {
				continue
			}
			items = append(items, item{at(s.WallTime), func() {
				value, _ := ysync.JSONFloat(s.Value)
				title := s.Group
				if title == "" {
					title = s.Metric
				}
				add(event{"type": clearmloffline.EventScalar, "iter": *s.Step, "metric": title, "variant": s.Metric,
					"value": value, "timestamp": at(s.WallTime).UnixMilli()})
				p.Counts.Scalars++
			}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	counters := map[string]int{}
	var perr error
	for _, img := range run.Images {
		if img.Kind == "" || img.Blob == "" {
			continue
		}
		img := img
		items = append(items, item{at(img.WallTime), func() {
			iter := int64(0)
			if img.Step != nil {
				iter = *img.Step
			}
			if img.Kind == "plot" {
				img.Name = img.Group
				if err := plotEvent(p, img, prefix, addr, at(img.WallTime), func(e event) {
					e["iter"], e["variant"] = iter, img.Series
					add(e)
				}); err != nil && perr == nil {
					perr = err
				}
				return
			}
			ext := path.Ext(img.FileName)
			ck := img.Group + "\x00" + img.Series
			key := metricsKey(prefix, img.Group, img.Series, counters[ck], ext)
			counters[ck]++
			p.Uploads = append(p.Uploads, upload{Key: key, Digest: img.Blob, Size: img.Size, ContentType: img.MediaType})
			add(event{"type": clearmloffline.EventDebugImage, "iter": iter, "metric": img.Group, "variant": img.Series,
				"key": key, "url": addr.imageURL(key), "timestamp": at(img.WallTime).UnixMilli()})
			p.Counts.Images++
		}})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	for _, it := range items {
		it.ev()
	}
	if perr != nil {
		return nil, perr
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
