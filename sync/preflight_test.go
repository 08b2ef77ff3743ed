package sync_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// projectsTarget is a destination whose Check passes with one note and
// whose projects are those in have.
type projectsTarget struct {
	stubTarget
	projects ysync.Projects
	have     map[string]bool
	asked    []string
}

func (p *projectsTarget) Check(context.Context) ([]string, *ysync.Projects, error) {
	lookup := p.projects
	lookup.Find = func(_ context.Context, name string) (bool, string, error) {
		p.asked = append(p.asked, name)
		if name == "broken" {
			return false, "", errors.New("project lookup refused: fix the name")
		}
		return p.have[name], " (id 7)", nil
	}
	return []string{"key ok"}, &lookup, nil
}

// TestPreflight_Projects: the core looks up the configured project first,
// then the archives' (once each, trimmed as the destination says), else
// the fallback, and words one note each; a failed lookup fails the
// preflight on its line.
func TestPreflight_Projects(t *testing.T) {
	for _, tc := range []struct {
		name      string
		projects  ysync.Projects
		names     []string
		wantAsked []string
		wantNotes []string
		wantErr   string
	}{
		{name: "configured first, once each", projects: ysync.Projects{Noun: "project", Configured: "a"}, names: []string{"b", "a", "", "b"},
			wantAsked: []string{"a", "b"}, wantNotes: []string{"key ok", `project "a" exists (id 7)`, `project "b" does not exist yet: the first sync creates it`}},
		{name: "trimmed", projects: ysync.Projects{Noun: "project", Trim: "/"}, names: []string{"/a/", "a"},
			wantAsked: []string{"a"}, wantNotes: []string{"key ok", `project "a" exists (id 7)`}},
		{name: "slashes kept", projects: ysync.Projects{Noun: "experiment"}, names: []string{"/Shared/Ultralytics"},
			wantAsked: []string{"/Shared/Ultralytics"}, wantNotes: []string{"key ok", `experiment "/Shared/Ultralytics" does not exist yet: the first sync creates it`}},
		{name: "fallback", projects: ysync.Projects{Noun: "experiment", Fallback: "Default"},
			wantAsked: []string{"Default"}, wantNotes: []string{"key ok", `experiment "Default" does not exist yet: the first sync creates it`}},
		{name: "no fallback", projects: ysync.Projects{Noun: "project"}, wantNotes: []string{"key ok"}},
		{name: "a lookup fails", projects: ysync.Projects{Noun: "project"}, names: []string{"broken", "b"},
			wantAsked: []string{"broken"}, wantNotes: []string{"key ok"}, wantErr: "project lookup refused: fix the name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &projectsTarget{projects: tc.projects, have: map[string]bool{"a": true}}
			chk, err := ysync.Preflight(context.Background(), d, tc.names)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if !slices.Equal(d.asked, tc.wantAsked) {
				t.Errorf("asked %q, want %q", d.asked, tc.wantAsked)
			}
			if !slices.Equal(chk.Notes, tc.wantNotes) {
				t.Errorf("notes %q, want %q", chk.Notes, tc.wantNotes)
			}
		})
	}
}
