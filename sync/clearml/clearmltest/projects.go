package clearmltest

import (
	"fmt"
	"sort"
	"strings"
)

// json is the project as projects.get_all returns it at schema version sv.
func (p *Project) json(sv string) map[string]any {
	o := map[string]any{
		"id":                         p.ID,
		"name":                       p.Name,
		"description":                p.Description,
		"tags":                       strsOrEmpty(p.Tags),
		"system_tags":                strsOrEmpty(p.SystemTags),
		"default_output_destination": p.DefaultOutputDestination,
		"created":                    isoTime(p.Created),
	}
	if !verLess(sv, "2.20") {
		o["basename"] = p.Basename
	}
	return o
}

func hidden(systemTags []string) bool {
	for _, t := range systemTags {
		if t == "hidden" {
			return true
		}
	}
	return false
}

func (s *Server) projectsGetAll(c *call) (any, *apiError) {
	re, aerr := nameFilter(c.body)
	if aerr != nil {
		return nil, aerr
	}
	ids := gStrs(c.body, "id")
	var objs []map[string]any
	for _, p := range s.projects {
		if re != nil && !re.MatchString(p.Name) {
			continue
		}
		if !inList(p.ID, ids) || !tagsMatch(p.Tags, gStrs(c.body, "tags")) ||
			!tagsMatch(p.SystemTags, gStrs(c.body, "system_tags")) {
			continue
		}
		if hidden(p.SystemTags) && !gBool(c.body, "search_hidden") {
			continue
		}
		if gBool(c.body, "shallow_search") && p.Parent != "" {
			continue
		}
		objs = append(objs, p.json(c.schemaVer))
	}
	objs = sortObjs(objs, gStrs(c.body, "order_by"))
	objs = paginate(objs, c.body)
	out := make([]any, 0, len(objs))
	for _, o := range objs {
		out = append(out, onlyFields(o, gStrs(c.body, "only_fields")))
	}
	return map[string]any{"projects": out}, nil
}

func (s *Server) projectsCreate(c *call) (any, *apiError) {
	if err := checkName(c.body, "name"); err != nil {
		return nil, err
	}
	name := gStr(c.body, "name")
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil, errf(400, 407, "Invalid project name (%q: empty path component)", name)
		}
	}
	if s.projectByName(name) != nil {
		return nil, &apiError{code: 400, subcode: 801,
			msg:  "Value combination already exists (unique field already contains this value)",
			data: map[string]any{"name": name}}
	}
	parent := ""
	for i := 1; i < len(parts); i++ {
		pn := strings.Join(parts[:i], "/")
		if p := s.projectByName(pn); p != nil {
			parent = p.ID
			continue
		}
		p := &Project{ID: newID(), Name: pn, Basename: parts[i-1], Parent: parent, Created: s.now()}
		s.projects = append(s.projects, p)
		parent = p.ID
	}
	p := &Project{
		ID: newID(), Name: name, Basename: parts[len(parts)-1], Parent: parent,
		Description: gStr(c.body, "description"), Tags: gStrs(c.body, "tags"),
		SystemTags: gStrs(c.body, "system_tags"), DefaultOutputDestination: gStr(c.body, "default_output_destination"),
		Created: s.now(),
	}
	s.projects = append(s.projects, p)
	return map[string]any{"id": p.ID}, nil
}

// sortObjs sorts objects by order_by keys ("-key" descending); stable.
func sortObjs(objs []map[string]any, orderBy []string) []map[string]any {
	if len(orderBy) == 0 {
		return objs
	}
	sort.SliceStable(objs, func(i, j int) bool {
		for _, k := range orderBy {
			desc := strings.HasPrefix(k, "-")
			k = strings.TrimLeft(k, "-+")
			c := compareAny(objs[i][k], objs[j][k])
			if c == 0 {
				continue
			}
			if desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	return objs
}

func compareAny(a, b any) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		}
		return 1
	}
	fa, oka := toFloat(a)
	fb, okb := toFloat(b)
	if oka && okb {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}
