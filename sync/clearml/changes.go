package clearml

import (
	"context"
	"fmt"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// changes reads the whole task back (a dry run's ReadBack): events,
// files, the output model, the General hyper-parameters and, for a final
// run, the completion. Each difference is one line of the
// *ysync.MismatchError's Changes: "12 of 40 scalars missing or different".
func (s *replay) changes(ctx context.Context) error {
	d, err := s.readBack(ctx, true)
	if err != nil {
		return err
	}
	changes := eventChanges(d)
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
	if completed := s.t.Status == "completed" || s.t.Status == "published"; s.run.Final() && !completed {
		changes = append(changes, fmt.Sprintf("task not completed (%s)", s.t.Status))
	}
	if len(changes) == 0 {
		return nil
	}
	return &ysync.MismatchError{Msg: fmt.Sprintf("ClearML task %s: %s", s.t.ID, strings.Join(changes, "; ")), Changes: changes}
}

// eventKinds names the event types in the order a dry run lists them.
var eventKinds = []struct{ typ, noun string }{
	{clearmloffline.EventScalar, "scalars"},
	{clearmloffline.EventDebugImage, "debug images"},
	{clearmloffline.EventPlot, "plots"},
}

// eventChanges counts the events missing or different, by type: "12 of
// 40 scalars missing or different".
func eventChanges(d *readBackDiff) []string {
	var out []string
	for _, k := range eventKinds {
		if n := d.eventsByType[k.typ]; n > 0 {
			out = append(out, fmt.Sprintf("%d of %d %s missing or different", n, d.plannedByType[k.typ], k.noun))
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
		if got, ok := have[name]; !ok || got.Value != item.Value {
			n++
		}
	}
	return n, nil
}
