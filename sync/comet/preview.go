package comet

import (
	"context"
	"fmt"
	"net/url"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Preview tells what Sync would do with run, sending only GET requests: it
// finds the experiment as Sync does (the checkpoint's key, then the run-id
// other among the project's experiments of the run's name) and reads it
// back against the build: others, parameters, metric points (as a
// multiset), uploads, and whether a final run's experiment was ended.
func (r *Destination) Preview(ctx context.Context, run *ysync.Run, st *ysync.State, res *ysync.Result) error {
	l, err := r.build(ctx, run)
	if err != nil {
		return err
	}
	copts := r.copts
	if copts.Limiter == nil {
		copts.Limiter = r.limiter
	}
	if copts.Gate == nil {
		copts.Gate = &r.gate
	}
	s := &replay{Destination: r, http: ysync.NewClient(copts), run: run, log: l, st: st, res: res}
	res.Gaps = append(res.Gaps, restLeftOut(l)...)
	defer func() { res.Requests, res.Retries = s.http.Requests(), s.http.Retries() }()
	if s.ws = l.Workspace; s.ws == "" {
		var acct struct {
			DefaultWorkspaceName string `json:"defaultWorkspaceName"`
		}
		if err := s.get(ctx, "account-details", nil, &acct); err != nil {
			return err
		}
		s.ws = acct.DefaultWorkspaceName
	}
	var others othersAnswer
	if st.RemoteID != "" {
		err := s.get(ctx, "experiment/log-other", url.Values{"experimentKey": {st.RemoteID}}, &others)
		switch id := others.get(RunIDOther); {
		case err == nil && (id == l.RunID || id == ""):
			s.key = st.RemoteID
		case err != nil && !experimentGone(err):
			return err
		default:
			st.Synced = false // as Sync forgets a checkpoint whose experiment is gone
		}
	}
	if s.key == "" {
		if s.key, err = s.lookup(ctx, false); err != nil {
			return err
		}
		if s.key == "" {
			res.Action = ysync.ActionCreate
			return nil
		}
		if err := s.get(ctx, "experiment/log-other", url.Values{"experimentKey": {s.key}}, &others); err != nil {
			return err
		}
	}
	res.RemoteID, res.URL = s.key, st.URL
	if res.URL == "" || st.RemoteID != s.key {
		res.URL = s.cfg.Root() + "/" + s.ws + "/" + l.Project + "/" + s.key
	}
	ended := others.get(FinalOther) == "true"
	switch {
	case !run.Final() && ended:
		res.Action = ysync.ActionBehind
		return nil
	case st.Synced:
		res.Action = ysync.ActionUpToDate
		return nil
	}
	changes, err := s.changes(ctx, others)
	if err != nil {
		return err
	}
	if run.Final() && !ended {
		changes = append(changes, "experiment not ended")
	}
	res.Action, res.Changes = ysync.ActionUpdate, changes
	if len(changes) == 0 {
		res.Action = ysync.ActionUpToDate
	}
	return nil
}

// changes reads the experiment back and says what it lacks, as counts:
// the comparisons of verify, all of them.
func (s *replay) changes(ctx context.Context, others othersAnswer) ([]string, error) {
	var out []string
	wantOthers, missingOthers := 1, 0
	if others.get(RunIDOther) == "" {
		missingOthers++
	}
	for _, c := range s.log.Calls {
		for _, kv := range c.Others {
			wantOthers++
			if others.get(kv.Key) == "" {
				missingOthers++
			}
		}
	}
	if missingOthers > 0 {
		out = append(out, fmt.Sprintf("%d of %d others missing", missingOthers, wantOthers))
	}
	var params struct {
		Values []struct {
			Name string `json:"name"`
		} `json:"values"`
	}
	if err := s.get(ctx, "experiment/parameters", url.Values{"experimentKey": {s.key}}, &params); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, v := range params.Values {
		seen[v.Name] = true
	}
	wantParams, missingParams := 0, 0
	for _, c := range s.log.Calls {
		for _, kv := range c.Params {
			wantParams++
			if !seen[kv.Key] {
				missingParams++
			}
		}
	}
	if missingParams > 0 {
		out = append(out, fmt.Sprintf("%d of %d parameters missing", missingParams, wantParams))
	}
	have, err := s.serverPoints(ctx)
	if err != nil {
		return nil, err
	}
	points := s.points()
	missingPoints := 0
	for _, p := range points {
		if have[p.id()] > 0 {
			have[p.id()]--
			continue
		}
		missingPoints++
	}
	if missingPoints > 0 {
		out = append(out, fmt.Sprintf("%d of %d metric points missing", missingPoints, len(points)))
	}
	assets, err := s.serverAssets(ctx)
	if err != nil {
		return nil, err
	}
	want, missing := map[string]int{}, map[string]int{}
	for _, a := range s.assets() {
		noun := assetNoun(a.typ)
		want[noun]++
		if size, ok := assets[a.id()]; !ok || size != a.call.File.Size {
			missing[noun]++
		}
	}
	for _, noun := range []string{"images", "models", "confusion matrices", "assets"} {
		if missing[noun] > 0 {
			out = append(out, fmt.Sprintf("%d of %d %s missing", missing[noun], want[noun], noun))
		}
	}
	return out, nil
}

func assetNoun(typ string) string {
	switch typ {
	case "image":
		return "images"
	case "model-element":
		return "models"
	case "confusion-matrix":
		return "confusion matrices"
	}
	return "assets"
}
