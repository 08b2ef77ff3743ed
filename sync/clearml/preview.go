package clearml

import (
	"context"
	"fmt"
	"strings"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Preview tells what Sync would do with run, sending only reads
// (auth.login, projects.get_all, tasks.get_all, events.get_task_events and
// HEAD requests to the file server): it finds the project and the task as
// Sync does (the checkpoint's task id, then the run's tag) and reads the
// task back against the plan.
func (r *Destination) Preview(ctx context.Context, run *ysync.Run, st *ysync.State, res *ysync.Result) error {
	copts := r.copts
	if copts.Limiter == nil {
		copts.Limiter = r.limiter
	}
	if copts.Gate == nil {
		copts.Gate = &r.gate
	}
	s := &replay{Destination: r, c: newClient(r.cfg, copts), run: run, st: st, res: res}
	defer func() { res.Requests, res.Retries = s.c.http.Requests(), s.c.http.Retries() }()
	if err := s.c.login(ctx); err != nil {
		return err
	}
	name := projectName(run.Info, r.opts, ysync.CallbackVersion(run.Info, r.opts.Version))
	var err error
	if s.pid, err = findProject(ctx, s.c, name); err != nil {
		return err
	}
	if s.pid == "" {
		res.Action = ysync.ActionCreate
		res.Changes = []string{fmt.Sprintf("project %q does not exist yet", name)}
		return nil
	}
	var ts []taskInfo
	if st.RemoteID != "" {
		if ts, err = s.lookup(ctx, st.RemoteID); err != nil {
			return err
		}
	}
	if len(ts) == 0 {
		st.Synced = false // as Sync forgets a checkpoint whose task is gone
		if ts, err = s.lookup(ctx); err != nil {
			return err
		}
	}
	if len(ts) == 0 {
		res.Action = ysync.ActionCreate
		return nil
	}
	s.t = ts[0]
	res.RemoteID = s.t.ID
	res.URL = fmt.Sprintf("%s/projects/%s/experiments/%s/output/execution", r.cfg.WebHost, s.pid, s.t.ID)
	completed := s.t.Status == "completed" || s.t.Status == "published"
	switch {
	case !run.Final() && completed:
		res.Action = ysync.ActionBehind
		return nil
	case st.Synced:
		res.Action = ysync.ActionUpToDate
		return nil
	}
	if s.plan, err = buildPlan(ctx, run, r.opts, s.t.ID, online(r.cfg.FilesHost)); err != nil {
		return err
	}
	d, err := s.readBack(ctx, true)
	if err != nil {
		return err
	}
	changes := eventChanges(d, s.plan)
	if n := len(d.files); n > 0 {
		changes = append(changes, fmt.Sprintf("%d of %d files missing", n, len(s.plan.Uploads)))
	}
	if d.noModel {
		changes = append(changes, `output model "best" missing`)
	}
	differ, err := s.paramsDiffer(ctx)
	if err != nil {
		return err
	}
	if differ > 0 {
		changes = append(changes, fmt.Sprintf("%d of %d parameters differ", differ, len(s.plan.Hyperparams["General"])))
	}
	if run.Final() && !completed {
		changes = append(changes, fmt.Sprintf("task not completed (%s)", s.t.Status))
	}
	res.Action, res.Changes = ysync.ActionUpdate, changes
	if len(changes) == 0 {
		res.Action = ysync.ActionUpToDate
	}
	return nil
}

// eventKinds names the event types in the order a preview lists them.
var eventKinds = []struct{ typ, noun string }{
	{"training_stats_scalar", "scalars"},
	{"training_debug_image", "debug images"},
	{"plot", "plots"},
}

// eventChanges counts the events missing or different, by type: "12 of
// 40 scalars missing or different".
func eventChanges(d *readBackDiff, p *plan) []string {
	planned := map[string]map[string]bool{}
	for _, e := range p.Events {
		typ := fmt.Sprint(e["type"])
		if planned[typ] == nil {
			planned[typ] = map[string]bool{}
		}
		planned[typ][eventID(e)] = true
	}
	missing := map[string]int{}
	for _, id := range d.events {
		typ, _, _ := strings.Cut(id, "|")
		missing[typ]++
	}
	var out []string
	for _, k := range eventKinds {
		if n := missing[k.typ]; n > 0 {
			out = append(out, fmt.Sprintf("%d of %d %s missing or different", n, len(planned[k.typ]), k.noun))
		}
	}
	return out
}

// paramsDiffer counts the planned General hyper-parameters the task lacks
// or holds with another value.
func (s *replay) paramsDiffer(ctx context.Context) (int, error) {
	want := s.plan.Hyperparams["General"]
	if len(want) == 0 {
		return 0, nil
	}
	var out struct {
		Tasks []struct {
			Hyperparams map[string]map[string]struct {
				Value string `json:"value"`
			} `json:"hyperparams"`
		} `json:"tasks"`
	}
	if err := s.c.call(ctx, "tasks.get_all", map[string]any{"id": []string{s.t.ID}, "only_fields": []string{"hyperparams"}}, &out); err != nil {
		return 0, err
	}
	var have map[string]struct {
		Value string `json:"value"`
	}
	if len(out.Tasks) > 0 {
		have = out.Tasks[0].Hyperparams["General"]
	}
	n := 0
	for name, item := range want {
		v, _ := item.(map[string]any)["value"].(string)
		if got, ok := have[name]; !ok || got.Value != v {
			n++
		}
	}
	return n, nil
}
