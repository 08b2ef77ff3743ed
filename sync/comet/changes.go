package comet

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas/cometoffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// changes reads the whole experiment back (a dry run's ReadBack) and
// says what it lacks, as counts: the comparisons of verify, all of them,
// and for a final run the end. Each difference is one line of the
// *ysync.MismatchError's Changes: "12 of 40 metric points missing".
func (s *replay) changes(ctx context.Context) error {
	others, err := s.others(ctx)
	if err != nil {
		return err
	}
	out, err := s.missing(ctx, others)
	if err != nil {
		return err
	}
	if s.run.Final() && others.get(FinalOther) != "true" {
		out = append(out, "experiment not ended")
	}
	if len(out) == 0 {
		return nil
	}
	return &ysync.MismatchError{Msg: fmt.Sprintf("Comet experiment %s: %s", s.key, strings.Join(out, "; ")), Changes: out}
}

// missing counts what the experiment lacks of the build, by kind.
func (s *replay) missing(ctx context.Context, others othersAnswer) ([]string, error) {
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
	missingPoints, points, err := s.missingPoints(ctx)
	if err != nil {
		return nil, err
	}
	if missingPoints > 0 {
		out = append(out, fmt.Sprintf("%d of %d metric points missing", missingPoints, points))
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
	case cometoffline.UploadModelElement:
		return "models"
	case cometoffline.UploadConfusionMatrix:
		return "confusion matrices"
	}
	return "assets"
}
