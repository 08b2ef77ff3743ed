package comettest

import (
	"mime"
	"net/http"
	"slices"
	"strconv"
)

// checkJSONType requires Content-Type application/json (parameters such as
// charset are allowed).
func checkJSONType(r *http.Request) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, invalid: true,
			msg: "Content-Type must be application/json, got " + strconv.Quote(r.Header.Get("Content-Type"))}
	}
	return nil
}

// writeExp returns the experiment named by key for a write.
func (s *Server) writeExp(key string) (*exp, *apiError) {
	e := s.byKey[key]
	if e == nil {
		return nil, refused(CodeNoWriteAccess, "No write access to experiment %s (or it does not exist)", key)
	}
	return e, nil
}

// timestamp returns body["timestamp"], or now.
func timestamp(body map[string]any) int64 {
	if t := optInt(body, "timestamp"); t != nil {
		return *t
	}
	return nowMillis()
}

func (s *Server) checkWorkspace(ws string) *apiError {
	if !slices.Contains(s.workspaceNames(), ws) {
		return refused(CodeNoSuchWorkspace, "Workspace %s does not exist", ws)
	}
	return nil
}

func (s *Server) findProject(ws, name string) *project {
	for _, p := range s.projects {
		if p.workspace == ws && p.name == name {
			return p
		}
	}
	return nil
}

func (s *Server) addProject(ws, name string) *project {
	p := &project{id: newID(), name: name, workspace: ws}
	s.projects = append(s.projects, p)
	return p
}

func (s *Server) createProject(c *call) (any, *apiError) {
	b := c.fields
	ws, name := b["workspaceName"].(string), b["projectName"].(string)
	if err := s.checkWorkspace(ws); err != nil {
		return nil, err
	}
	if s.findProject(ws, name) != nil {
		return nil, refused(0, "Project already exists")
	}
	p := s.addProject(ws, name)
	p.description = optStr(b, "projectDescription")
	p.public, _ = b["isPublic"].(bool)
	return map[string]any{"projectId": p.id}, nil
}

func (s *Server) createExperiment(c *call) (any, *apiError) {
	b := c.fields
	ws, name := b["workspaceName"].(string), b["projectName"].(string)
	if err := s.checkWorkspace(ws); err != nil {
		return nil, err
	}
	p := s.findProject(ws, name)
	if p == nil {
		p = s.addProject(ws, name)
	}
	e := &exp{
		Experiment: Experiment{
			Key:         newID(),
			Name:        optStr(b, "experimentName"),
			Workspace:   ws,
			Project:     name,
			Others:      map[string]string{},
			Params:      map[string]Param{},
			StartMillis: nowMillis(),
			Alive:       true,
		},
		projectID: p.id,
		models:    map[string]string{},
	}
	s.experiments = append(s.experiments, e)
	s.byKey[e.Key] = e
	return map[string]any{
		"experimentKey": e.Key,
		"workspaceName": ws,
		"projectName":   name,
		"link":          s.URL + "/" + ws + "/" + name + "/" + e.Key,
	}, nil
}

func (s *Server) logOther(c *call) (any, *apiError) {
	b := c.fields
	e, err := s.writeExp(b["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	k, v := b["key"].(string), stringForm(b["value"])
	if _, seen := e.Others[k]; !seen {
		e.otherOrder = append(e.otherOrder, k)
	}
	e.Others[k] = v
	e.OthersLog = append(e.OthersLog, Other{Key: k, Value: v, Timestamp: timestamp(b)})
	if k == "Name" {
		e.Name = v
	}
	return map[string]any{}, nil
}

func (s *Server) logParameter(c *call) (any, *apiError) {
	e, err := s.writeExp(c.fields["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	e.setParam(c.fields["parameterName"].(string), c.fields)
	return map[string]any{}, nil
}

// setParam stores a parameter (last write wins) from a request's fields,
// valid against their schema.
func (e *exp) setParam(name string, f map[string]any) {
	if _, seen := e.Params[name]; !seen {
		e.paramOrder = append(e.paramOrder, name)
	}
	e.Params[name] = Param{
		Name:      name,
		Value:     plainValue(f["parameterValue"]),
		Step:      optInt(f, "step"),
		Context:   optStr(f, "context"),
		Timestamp: timestamp(f),
	}
	e.ParamWrites++
}

func (s *Server) logMetric(c *call) (any, *apiError) {
	e, err := s.writeExp(c.fields["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	e.addMetric(c.fields)
	return map[string]any{}, nil
}

// addMetric stores a point (every point is kept) from a request's
// fields, valid against their schema.
func (e *exp) addMetric(f map[string]any) {
	e.Metrics = append(e.Metrics, Metric{
		Name:      f["metricName"].(string),
		Value:     plainValue(f["metricValue"]),
		Step:      optInt(f, "step"),
		Epoch:     optInt(f, "epoch"),
		Context:   optStr(f, "context"),
		Timestamp: timestamp(f),
	})
}

func (s *Server) addTags(c *call) (any, *apiError) {
	e, err := s.writeExp(c.fields["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	for _, t := range c.fields["addedTags"].([]any) {
		if !slices.Contains(e.Tags, t.(string)) {
			e.Tags = append(e.Tags, t.(string))
		}
	}
	return map[string]any{}, nil
}

func (s *Server) setStartEnd(c *call) (any, *apiError) {
	b := c.fields
	e, err := s.writeExp(b["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	if t := optInt(b, "startTimeMillis"); t != nil {
		e.StartMillis = *t
	}
	if t := optInt(b, "endTimeMillis"); t != nil {
		e.EndMillis = t
	}
	return map[string]any{}, nil
}

func (s *Server) updateStatus(c *call) (any, *apiError) {
	b := c.fields
	e, err := s.writeExp(b["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	e.Alive = b["isAlive"].(bool)
	e.HasCrashed, _ = b["hasCrashed"].(bool)
	e.Error = optStr(b, "error")
	e.StatusUpdates++
	return map[string]any{}, nil
}
