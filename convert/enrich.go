package convert

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// enrich adds what a tracker session of the same run holds and the run
// directory lacks (schemas/FORMAT.md §7, "Enrichment"): exact single
// values, the console log, tags, the session's own times, settings
// sections and messages with no run-directory counterpart, images and
// files that are not already stored, and the session's files. The run
// keeps the run directory's identity. A session of another run is refused.
func (r *Run) enrich(ctx context.Context, src string) error {
	kind, err := Detect(src)
	if err != nil {
		return err
	}
	if !isSession(kind) {
		return fmt.Errorf("%s: --session takes %s, not a %s", src, sessionNames(), kind)
	}
	s, err := readSession(ctx, src, kind, r.opts)
	if err != nil {
		return err
	}
	// The session's files live in its extraction folder until Write.
	prev := r.cleanup
	r.cleanup = func() {
		s.Close()
		if prev != nil {
			prev()
		}
	}
	if err := sameRun(r, s, src); err != nil {
		return err
	}
	if r.sessionIDs == nil {
		r.sessionIDs = map[string]bool{r.Info.SessionID: r.Info.SessionID != ""}
	}
	if id := s.Info.SessionID; id != "" && r.sessionIDs[id] {
		return fmt.Errorf("%s: session %s is given twice: give each session of the run once", src, id)
	}
	r.sessionIDs[s.Info.SessionID] = true
	if r.Info.SessionID == "" {
		r.Info.SessionID = s.Info.SessionID
	}
	r.Info.Tags = s.Info.Tags
	// Rows from a session say which one.
	label := path.Base(src)
	if r.merged > 0 {
		// Two sessions of one name (a/session.zip, b/session.zip) stay
		// apart by their position.
		label = fmt.Sprintf("%s (session %d)", label, r.merged+1)
	}
	label += ": "
	if s.Info.StartedAt != nil && s.Info.EndedAt != nil {
		if r.merged == 0 || r.Info.StartedAt == nil || r.Info.EndedAt == nil {
			r.Info.StartedAt, r.Info.EndedAt = s.Info.StartedAt, s.Info.EndedAt
		} else {
			// A later attempt of a resumed run: the run spans them all.
			if s.Info.StartedAt.Before(*r.Info.StartedAt) {
				r.Info.StartedAt = s.Info.StartedAt
			}
			if s.Info.EndedAt.After(*r.Info.EndedAt) {
				r.Info.EndedAt = s.Info.EndedAt
			}
		}
		r.Info.TimeSource = "session"
	}
	// Exact single values replace the approximations.
	exact := map[string]bool{}
	for _, v := range s.Summary {
		exact[v.Key] = true
	}
	kept := r.Summary[:0]
	for _, v := range r.Summary {
		if !exact[v.Key] {
			kept = append(kept, v)
		}
	}
	r.Summary = append(kept, s.Summary...)
	for _, l := range s.Logs {
		l.Origin = label + l.Origin
		r.Logs = append(r.Logs, l)
	}
	r.merged++
	dir := "session/"
	if r.merged > 1 {
		// A run resumed with a new session per attempt: each keeps its
		// own files, and its values replace the earlier sessions' for the
		// same metric and step.
		dir = fmt.Sprintf("session-%d/", r.merged)
	}
	for _, p := range s.Params {
		if p.Section == "args" {
			continue
		}
		if i := paramIndex(r.Params, p.Section, p.Key); i >= 0 {
			r.Params[i] = p
			continue
		}
		r.Params = append(r.Params, p)
	}
	columns := map[string]bool{}
	if r.Results != nil {
		for _, c := range r.Results.Columns {
			columns[c] = true
		}
	}
	extraScalars := 0
	var fresh []schemas.ScalarRow
	newKeys := map[string]bool{}
	for _, sc := range s.Scalars {
		if !columns[sc.Metric] {
			sc.Origin = label + sc.Origin
			fresh = append(fresh, sc)
			newKeys[scalarKey(sc)] = true
			extraScalars++
		}
	}
	if r.sessionRows == nil {
		r.sessionRows = map[string]bool{}
	}
	keptScalars := r.Scalars[:0]
	for _, sc := range r.Scalars {
		if !(r.sessionRows[scalarKey(sc)] && newKeys[scalarKey(sc)]) {
			keptScalars = append(keptScalars, sc)
		}
	}
	r.Scalars = append(keptScalars, fresh...)
	for k := range newKeys {
		r.sessionRows[k] = true
	}
	if r.merged > 1 {
		// Several attempts: put the points back in epoch order.
		sort.SliceStable(r.Scalars, func(i, j int) bool {
			a, b := r.Scalars[i], r.Scalars[j]
			if a.Epoch != b.Epoch {
				return a.Epoch < b.Epoch
			}
			return optStep(a.Step) < optStep(b.Step)
		})
	}
	stored := map[string]bool{}
	for _, b := range r.blobs {
		stored[b.sum.SHA256] = true
	}
	newImages := 0
	added := map[string]bool{}
	for _, img := range s.Images {
		if !stored[img.Blob] {
			added[img.FileName] = true
			img.FileName = dir + img.FileName
			r.Images = append(r.Images, img)
			newImages++
		}
	}
	if r.predictions == "" {
		for _, a := range s.Annotations {
			if added[a.ImageFile] { // the annotations of images added above
				a.ImageFile = dir + a.ImageFile
				r.Annotations = append(r.Annotations, a)
			}
		}
	}
	for _, a := range s.Assets {
		if !stored[a.Blob] || a.Role == schemas.RoleSessionFile {
			a.FileName = dir + a.FileName
			if a.Role == schemas.RoleWeightsBest && HasAssetRole(r.Assets, schemas.RoleWeightsBest) {
				a.Role = schemas.RoleTrackerAsset
			}
			r.Assets = append(r.Assets, a)
		}
	}
	for _, b := range s.blobs {
		if !stored[b.sum.SHA256] {
			stored[b.sum.SHA256] = true
			r.blobs = append(r.blobs, b)
		}
	}
	// Gaps the session fills.
	filled := map[string]bool{}
	if exact["model/parameters"] || exact["model/GFLOPs"] {
		filled["model_info"] = true
	}
	for k := range exact {
		if strings.HasPrefix(k, "metrics/") {
			filled["final_validation_metrics"] = true
		}
	}
	if HasAssetRole(s.Assets, schemas.RoleConfusionMatrixData) {
		filled["confusion_matrix_values"] = true
	}
	if len(s.Logs) > 0 {
		filled["console_and_system"] = kind == schemas.SourceCometOffline && hasSection(s.Params, "comet:system_details")
	}
	gaps := r.Gaps[:0]
	for _, g := range r.Gaps {
		if !filled[g.Item] {
			gaps = append(gaps, g)
		}
	}
	r.Gaps = gaps
	if len(s.Logs) > 0 && kind == schemas.SourceClearMLOffline {
		for i, g := range r.Gaps {
			if g.Item == "console_and_system" {
				r.Gaps[i].Reason = "the console output is in the logs table (from the ClearML session); system metrics, installed packages and git details are not in a ClearML offline session"
				r.Gaps[i].Hint = ""
			}
		}
	}
	have := map[string]bool{}
	for _, g := range r.Gaps {
		have[g.Item+"\x00"+g.Reason] = true
	}
	for _, g := range s.Gaps {
		if g.Item != "model" && g.Item != "ultralytics_version" && g.Item != "settings" && !have[g.Item+"\x00"+g.Reason] {
			have[g.Item+"\x00"+g.Reason] = true
			r.Gaps = append(r.Gaps, g)
		}
	}
	if HasAssetRole(r.Assets, schemas.RoleWeightsBest) {
		// A later session brought the weights an earlier one lacked.
		kept := r.Gaps[:0]
		for _, g := range r.Gaps {
			if g.Item != "model" {
				kept = append(kept, g)
			}
		}
		r.Gaps = kept
	}
	r.Warnings = append(r.Warnings, s.Warnings...)
	r.warn(fmt.Sprintf("enriched from %s session %s: %d exact single values, %d console lines, %d more scalars, %d more images",
		strings.TrimSuffix(kind, "-offline"), path.Base(src), len(s.Summary), len(s.Logs), extraScalars, newImages))
	return nil
}

func hasSection(params []schemas.ParamRow, section string) bool {
	for _, p := range params {
		if p.Section == section {
			return true
		}
	}
	return false
}

// sameRun checks that a session recorded the run: the callbacks log the
// training arguments, whose save_dir and name identify the run.
func sameRun(r, s *Run, src string) error {
	get := func(run *Run, key string) string {
		for _, p := range run.Params {
			if p.Section == "args" && p.Key == key {
				if p.String != nil {
					return *p.String
				}
				return p.Text
			}
		}
		return ""
	}
	for _, key := range []string{"save_dir", "name"} {
		a, b := get(r, key), get(s, key)
		if b == "" {
			return fmt.Errorf("%s: the session records no %s setting: cannot tell whether it belongs to %s (capture it on its own)", src, key, r.Source)
		}
		if a == "" {
			return fmt.Errorf("%s records no %s setting: cannot tell whether %s belongs to it", r.Source, key, src)
		}
		if a != b {
			return fmt.Errorf("%s: the session is of another run (%s %q; %s has %q)", src, key, b, r.Source, a)
		}
	}
	return nil
}

// scalarKey identifies a point: metric, group, epoch and step.
func scalarKey(s schemas.ScalarRow) string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%d", s.Metric, s.Group, s.Epoch, optStep(s.Step))
}

func optStep(p *int64) int64 {
	if p == nil {
		return -1 << 62
	}
	return *p
}

func paramIndex(ps []schemas.ParamRow, section, key string) int {
	for i, p := range ps {
		if p.Section == section && p.Key == key {
			return i
		}
	}
	return -1
}
