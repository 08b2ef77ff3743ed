package comettest

import (
	"math"
	"net/http"
	"strconv"
)

// readExp returns the experiment named by the experimentKey query
// parameter (its schema requires it): s.notFound when unknown.
func (s *Server) readExp(c *call) (*exp, *apiError) {
	e := s.byKey[c.query.Get("experimentKey")]
	if e == nil {
		return nil, s.notFound("Experiment")
	}
	return e, nil
}

// summaryJSON is one entry of a summary answer (metrics summary,
// parameters, others): the documented fields only.
func summaryJSON(name string, current, lo, hi any, ts int64, step *int64) map[string]any {
	return map[string]any{
		"name": name, "valueCurrent": current, "valueMin": lo, "valueMax": hi,
		"timestampCurrent": ts, "stepCurrent": intOrNil(step),
	}
}

// intOrNil renders an optional int as a JSON number or null.
func intOrNil(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// strOrNil renders "" as null.
func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) accountDetails(c *call) (any, *apiError) {
	return map[string]any{"userName": UserName, "defaultWorkspaceName": s.Workspace}, nil
}

func (s *Server) listWorkspaces(c *call) (any, *apiError) {
	return map[string]any{"workspaceNames": s.workspaceNames()}, nil
}

func (s *Server) listProjects(c *call) (any, *apiError) {
	ws := c.query.Get("workspaceName")
	if err := s.checkWorkspace(ws); err != nil {
		return nil, err
	}
	out := []any{}
	for _, p := range s.projects {
		if p.workspace == ws {
			out = append(out, projectJSON(p))
		}
	}
	return map[string]any{"projects": out}, nil
}

func projectJSON(p *project) map[string]any {
	return map[string]any{"projectId": p.id, "projectName": p.name}
}

// queryProject returns the project named by ?projectId=I or
// ?workspaceName=W&projectName=P (its schema requires one of them):
// s.notFound when there is none (an unknown workspace is a 400 of its
// own).
func (s *Server) queryProject(c *call) (*project, *apiError) {
	q := c.query
	if id := q.Get("projectId"); id != "" {
		for _, p := range s.projects {
			if p.id == id {
				return p, nil
			}
		}
		return nil, s.notFound("Project")
	}
	ws, name := q.Get("workspaceName"), q.Get("projectName")
	if err := s.checkWorkspace(ws); err != nil {
		return nil, err
	}
	if p := s.findProject(ws, name); p != nil {
		return p, nil
	}
	return nil, s.notFound("Project")
}

func (s *Server) getProject(c *call) (any, *apiError) {
	p, err := s.queryProject(c)
	if err != nil {
		return nil, err
	}
	return projectJSON(p), nil
}

// listExperiments answers experiments?workspaceName=W&projectName=P or
// ?projectId=I. A project that does not exist (yet) is an error, not an
// empty list (see NotFound).
func (s *Server) listExperiments(c *call) (any, *apiError) {
	p, err := s.queryProject(c)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range s.experiments {
		if e.projectID == p.id {
			out = append(out, map[string]any{
				"experimentKey":  e.Key,
				"experimentName": strOrNil(e.Name),
				"projectId":      e.projectID,
				"projectName":    e.Project,
				"workspaceName":  e.Workspace,
			})
		}
	}
	return map[string]any{"experiments": out}, nil
}

func (s *Server) metadata(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	var dur int64
	if e.EndMillis != nil {
		dur = *e.EndMillis - e.StartMillis
	}
	return map[string]any{
		"experimentKey":   e.Key,
		"experimentName":  strOrNil(e.Name),
		"projectId":       e.projectID,
		"projectName":     e.Project,
		"workspaceName":   e.Workspace,
		"startTimeMillis": e.StartMillis,
		"endTimeMillis":   intOrNil(e.EndMillis),
		"durationMillis":  dur,
		"running":         e.Alive,
		"throttle":        false,
		"archived":        false,
		"fileName":        nil,
		"filePath":        nil,
		"optimizationId":  nil,
	}, nil
}

func (s *Server) readOthers(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, k := range e.otherOrder {
		var ts int64
		for _, o := range e.OthersLog {
			if o.Key == k {
				ts = o.Timestamp
			}
		}
		v := e.Others[k]
		out = append(out, summaryJSON(k, v, v, v, ts, nil))
	}
	return map[string]any{"values": out}, nil
}

func (s *Server) readParameters(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, k := range e.paramOrder {
		p := e.Params[k]
		v := stringForm(p.Value)
		out = append(out, summaryJSON(k, v, v, v, p.Timestamp, p.Step))
	}
	return map[string]any{"values": out}, nil
}

func (s *Server) readTags(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": append([]string{}, e.Tags...)}, nil
}

func metricJSON(m Metric) map[string]any {
	return map[string]any{
		"metricName":  m.Name,
		"metricValue": stringForm(m.Value),
		"timestamp":   m.Timestamp,
		"step":        intOrNil(m.Step),
		"epoch":       intOrNil(m.Epoch),
		"runContext":  strOrNil(m.Context),
	}
}

func (s *Server) readAllMetrics(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range e.Metrics {
		out = append(out, metricJSON(m))
	}
	return map[string]any{"metrics": out}, nil
}

func (s *Server) readMetric(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	name := c.query.Get("metricName")
	out := []any{}
	for _, m := range e.Metrics {
		if m.Name == name {
			out = append(out, metricJSON(m))
		}
	}
	return map[string]any{"metrics": out}, nil
}

// numeric returns a metric value as a float (NaN and infinities included).
func numeric(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		if x == "NaN" {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

// metricsSummary answers one entry per metric name, in first-logged order:
// valueCurrent/stepCurrent/timestampCurrent are from the last point
// received; min/max ignore NaN and are null when every value is NaN.
func (s *Server) metricsSummary(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	type sum struct {
		last       Metric
		minV, maxV float64
		haveV      bool
	}
	var order []string
	sums := map[string]*sum{}
	for _, m := range e.Metrics {
		x := sums[m.Name]
		if x == nil {
			x = &sum{}
			sums[m.Name] = x
			order = append(order, m.Name)
		}
		x.last = m
		if f := numeric(m.Value); !math.IsNaN(f) {
			if !x.haveV {
				x.minV, x.maxV, x.haveV = f, f, true
			}
			x.minV, x.maxV = min(x.minV, f), max(x.maxV, f)
		}
	}
	out := []any{}
	for _, n := range order {
		x := sums[n]
		var vmin, vmax any
		if x.haveV {
			vmin, vmax = stringForm(x.minV), stringForm(x.maxV)
		}
		out = append(out, summaryJSON(n, stringForm(x.last.Value), vmin, vmax, x.last.Timestamp, x.last.Step))
	}
	return map[string]any{"values": out}, nil
}

// assetDir is the "dir" the asset list reports for a type.
func assetDir(typ string) string {
	switch typ {
	case "asset":
		return "assets"
	case "image":
		return "images"
	}
	return typ
}

func (s *Server) listAssets(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	typ := c.query.Get("type")
	out := []any{}
	for _, a := range e.Assets {
		if typ != "" && a.Type != typ {
			continue
		}
		out = append(out, map[string]any{
			"assetId":  a.ID,
			"fileName": a.FileName,
			"fileSize": a.Size,
			"step":     intOrNil(a.Step),
			"type":     a.Type,
			"metadata": strOrNil(a.Metadata),
			"dir":      assetDir(a.Type),
			"link":     s.assetLink(e.Key, a.ID),
		})
	}
	return map[string]any{"assets": out}, nil
}

func (s *Server) listModels(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, g := range e.modelOrder {
		out = append(out, map[string]any{
			"experimentModelId": e.models[g],
			"experimentKey":     e.Key,
			"modelName":         g,
		})
	}
	return out, nil
}

func (s *Server) getAsset(c *call) (any, *apiError) {
	e, err := s.readExp(c)
	if err != nil {
		return nil, err
	}
	id := c.query.Get("assetId")
	for _, a := range e.Assets {
		if a.ID == id {
			return rawBytes(append([]byte(nil), a.Data...)), nil
		}
	}
	return nil, &apiError{status: http.StatusNotFound, msg: "Asset " + id + " not found"}
}
