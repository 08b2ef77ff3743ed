package clearmltest

import (
	"regexp"
	"strings"
)

// Task statuses.
const (
	StatusCreated    = "created"
	StatusQueued     = "queued"
	StatusInProgress = "in_progress"
	StatusStopped    = "stopped"
	StatusFailed     = "failed"
	StatusCompleted  = "completed"
	StatusClosed     = "closed"
	StatusPublished  = "published"
)

// minIter is the iteration of single-value events; it does not count for
// last_iteration.
const minIter = -2147483648

func nameFilter(body map[string]any) (*regexp.Regexp, *apiError) {
	n, ok := body["name"].(string)
	if !ok || n == "" {
		return nil, nil
	}
	return compileName(n)
}

func modelRefsJSON(refs []ModelRef) []any {
	out := make([]any, 0, len(refs))
	for _, r := range refs {
		out = append(out, map[string]any{"name": r.Name, "model": r.Model})
	}
	return out
}

// json is the task as tasks.get_all and get_by_id return it at schema
// version sv (fields a version does not name are left out).
func (t *Task) json(sv string) map[string]any {
	hp := map[string]any{}
	for sec, m := range t.Hyperparams {
		mm := map[string]any{}
		for name, p := range m {
			mm[name] = map[string]any{"section": p.Section, "name": p.Name, "value": p.Value,
				"type": p.Type, "description": p.Description}
		}
		hp[sec] = mm
	}
	cfg := map[string]any{}
	for name, c := range t.Configuration {
		cfg[name] = map[string]any{"name": c.Name, "value": c.Value, "type": c.Type, "description": c.Description}
	}
	rt := map[string]any{}
	for k, v := range t.Runtime {
		rt[k] = v
	}
	o := map[string]any{
		"id":             t.ID,
		"name":           t.Name,
		"type":           t.Type,
		"project":        t.Project,
		"status":         t.Status,
		"status_reason":  t.StatusReason,
		"status_message": t.StatusMessage,
		"tags":           strsOrEmpty(t.Tags),
		"system_tags":    strsOrEmpty(t.SystemTags),
		"comment":        t.Comment,
		"parent":         t.Parent,
		"output":         map[string]any{"destination": t.OutputDest},
		"hyperparams":    hp,
		"configuration":  cfg,
		"execution":      t.executionJSON(),
		"script":         orEmpty(t.Script),
		"last_iteration": t.LastIteration,
		"created":        isoTime(t.Created),
		"started":        isoTime(t.Started),
		"completed":      isoTime(t.Completed),
		"last_update":    isoTime(t.LastUpdate),
	}
	if !verLess(sv, "2.13") {
		o["models"] = map[string]any{"input": modelRefsJSON(t.InputModels), "output": modelRefsJSON(t.Models)}
		o["container"] = orEmpty(t.Container)
	}
	if !verLess(sv, "2.20") {
		o["runtime"] = rt
	}
	return o
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return deepCopyMap(m)
}

// invalidTask is the server's answer for a task id it does not know
// (TaskBLL.get_task_with_access, assert_exists: 400/101).
func invalidTask(id string) *apiError {
	return &apiError{code: 400, subcode: 101, msg: "Invalid task id: id=" + id, data: map[string]any{"id": id}}
}

func invalidStatus(t *Task, why string) *apiError {
	return &apiError{code: 400, subcode: 110, msg: "Invalid task status (" + why + ")",
		data: map[string]any{"id": t.ID, "status": t.Status}}
}

func (s *Server) getTask(c *call) (*Task, *apiError) {
	id := gStr(c.body, "task")
	t := s.task(id)
	if t == nil {
		return nil, invalidTask(id)
	}
	return t, nil
}

func (s *Server) tasksGetAll(c *call) (any, *apiError) {
	re, aerr := nameFilter(c.body)
	if aerr != nil {
		return nil, aerr
	}
	b := c.body
	var objs []map[string]any
	for _, t := range s.tasks {
		if re != nil && !re.MatchString(t.Name) {
			continue
		}
		if !inList(t.ID, gStrs(b, "id")) || !inList(t.Project, gStrs(b, "project")) ||
			!inList(t.Status, gStrs(b, "status")) || !inList(t.Type, gStrs(b, "type")) ||
			!tagsMatch(t.Tags, gStrs(b, "tags")) || !tagsMatch(t.SystemTags, gStrs(b, "system_tags")) {
			continue
		}
		if p := gStr(b, "parent"); p != "" && t.Parent != p {
			continue
		}
		if hidden(t.SystemTags) && !gBool(b, "search_hidden") {
			continue
		}
		objs = append(objs, t.json(c.schemaVer))
	}
	objs = sortObjs(objs, gStrs(b, "order_by"))
	objs = paginate(objs, b)
	out := make([]any, 0, len(objs))
	for _, o := range objs {
		out = append(out, onlyFields(o, gStrs(b, "only_fields")))
	}
	return map[string]any{"tasks": out}, nil
}

func (s *Server) tasksGetByID(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"task": t.json(c.schemaVer)}, nil
}

// checkProject verifies an optional project id field.
func (s *Server) checkProject(body map[string]any) *apiError {
	if p, ok := body["project"].(string); ok && p != "" && s.project(p) == nil {
		return &apiError{code: 400, subcode: 401, msg: "Invalid project id (id=" + p + ")", data: map[string]any{"id": p}}
	}
	return nil
}

// checkModels verifies the model ids in a task models object.
func (s *Server) checkModels(body map[string]any) *apiError {
	m := gObj(body, "models")
	for _, k := range []string{"input", "output"} {
		for _, r := range refsFrom(m, k) {
			if s.model(r.Model) == nil {
				return invalidModel(r.Model)
			}
		}
	}
	return nil
}

func invalidModel(id string) *apiError {
	return &apiError{code: 400, subcode: 201, msg: "Invalid model id: id=" + id, data: map[string]any{"id": id}}
}

func refsFrom(m map[string]any, k string) []ModelRef {
	a, _ := m[k].([]any)
	var out []ModelRef
	for _, e := range a {
		o, _ := e.(map[string]any)
		out = append(out, ModelRef{Name: gStr(o, "name"), Model: gStr(o, "model")})
	}
	return out
}

// applyTaskFields copies the task fields present in body onto t (whole
// top-level fields are replaced, as tasks.edit does).
func applyTaskFields(t *Task, b map[string]any) {
	if has(b, "name") {
		t.Name = gStr(b, "name")
	}
	if has(b, "type") {
		t.Type = gStr(b, "type")
	}
	if has(b, "project") {
		t.Project = gStr(b, "project")
	}
	if has(b, "tags") {
		t.Tags = gStrs(b, "tags")
	}
	if has(b, "system_tags") {
		t.SystemTags = gStrs(b, "system_tags")
	}
	if has(b, "comment") {
		t.Comment = gStr(b, "comment")
	}
	if has(b, "parent") {
		t.Parent = gStr(b, "parent")
	}
	if has(b, "output_dest") {
		t.OutputDest = gStr(b, "output_dest")
	}
	if has(b, "execution") {
		t.Execution = plainMap(gObj(b, "execution"))
	}
	if has(b, "script") {
		t.Script = plainMap(gObj(b, "script"))
	}
	if has(b, "container") {
		t.Container = plainMap(gObj(b, "container"))
	}
	if has(b, "hyperparams") {
		t.Hyperparams = map[string]map[string]ParamItem{}
		for sec, v := range gObj(b, "hyperparams") {
			m := map[string]ParamItem{}
			for name, pv := range v.(map[string]any) {
				po := pv.(map[string]any)
				m[name] = ParamItem{Section: sec, Name: name, Value: gStr(po, "value"),
					Type: gStr(po, "type"), Description: gStr(po, "description")}
			}
			t.Hyperparams[sec] = m
		}
	}
	if has(b, "configuration") {
		t.Configuration = map[string]ConfigItem{}
		for name, v := range gObj(b, "configuration") {
			co := v.(map[string]any)
			t.Configuration[name] = ConfigItem{Name: name, Value: gStr(co, "value"),
				Type: gStr(co, "type"), Description: gStr(co, "description")}
		}
	}
	if has(b, "runtime") {
		t.Runtime = map[string]string{}
		for k, v := range gObj(b, "runtime") {
			t.Runtime[k], _ = v.(string)
		}
	}
	if has(b, "models") {
		m := gObj(b, "models")
		t.InputModels = refsFrom(m, "input")
		t.Models = refsFrom(m, "output")
	}
}

// checkName enforces the database's minimum name length (3 after
// stripping; a mongoengine error, 400/800 on the server) when body has
// the field.
func checkName(body map[string]any, field string) *apiError {
	if v, ok := body[field].(string); ok && len([]rune(strings.TrimSpace(v))) < 3 {
		return &apiError{code: 400, subcode: 800, msg: "Data validation error (" + field + ": String value is too short)",
			data: map[string]any{"field": field}}
	}
	return nil
}

func (s *Server) tasksCreate(c *call) (any, *apiError) {
	if err := checkName(c.body, "name"); err != nil {
		return nil, err
	}
	if err := s.checkProject(c.body); err != nil {
		return nil, err
	}
	if err := s.checkModels(c.body); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Task{ID: newID(), Status: StatusCreated, Created: now, LastUpdate: now,
		Hyperparams: map[string]map[string]ParamItem{}, Configuration: map[string]ConfigItem{},
		Runtime: map[string]string{}}
	applyTaskFields(t, c.body)
	s.tasks = append(s.tasks, t)
	return map[string]any{"id": t.ID}, nil
}

func (s *Server) tasksEdit(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	if t.Status != StatusCreated && !gBool(c.body, "force") {
		return nil, invalidStatus(t, "Invalid status change: task can only be edited in created status unless force is set")
	}
	if err := checkName(c.body, "name"); err != nil {
		return nil, err
	}
	if err := s.checkProject(c.body); err != nil {
		return nil, err
	}
	if err := s.checkModels(c.body); err != nil {
		return nil, err
	}
	applyTaskFields(t, c.body)
	t.LastUpdate = s.now()
	fields := map[string]any{}
	for k, v := range c.body {
		if k != "task" && k != "force" {
			fields[k] = plain(v)
		}
	}
	return map[string]any{"updated": 1, "fields": fields}, nil
}

// editableParams implements the status rule of edit_hyper_params and
// edit_configuration.
func editableParams(t *Task, force bool) *apiError {
	switch t.Status {
	case StatusCreated:
		return nil
	case StatusInProgress, StatusQueued:
		if force {
			return nil
		}
	}
	return invalidStatus(t, "Invalid status change: task status "+t.Status+" does not allow editing")
}

func (s *Server) tasksEditHyperParams(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	if err := editableParams(t, gBool(c.body, "force")); err != nil {
		return nil, err
	}
	items, _ := c.body["hyperparams"].([]any)
	switch gStr(c.body, "replace_hyperparams") {
	case "all":
		t.Hyperparams = map[string]map[string]ParamItem{}
	case "section":
		for _, it := range items {
			delete(t.Hyperparams, gStr(it.(map[string]any), "section"))
		}
	}
	if t.Hyperparams == nil {
		t.Hyperparams = map[string]map[string]ParamItem{}
	}
	for _, it := range items {
		o := it.(map[string]any)
		sec, name := gStr(o, "section"), gStr(o, "name")
		if t.Hyperparams[sec] == nil {
			t.Hyperparams[sec] = map[string]ParamItem{}
		}
		t.Hyperparams[sec][name] = ParamItem{Section: sec, Name: name, Value: gStr(o, "value"),
			Type: gStr(o, "type"), Description: gStr(o, "description")}
	}
	t.LastUpdate = s.now()
	return map[string]any{"updated": 1}, nil
}

func (s *Server) tasksEditConfiguration(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	if err := editableParams(t, gBool(c.body, "force")); err != nil {
		return nil, err
	}
	if gBool(c.body, "replace_configuration") || t.Configuration == nil {
		t.Configuration = map[string]ConfigItem{}
	}
	items, _ := c.body["configuration"].([]any)
	for _, it := range items {
		o := it.(map[string]any)
		name := gStr(o, "name")
		t.Configuration[name] = ConfigItem{Name: name, Value: gStr(o, "value"),
			Type: gStr(o, "type"), Description: gStr(o, "description")}
	}
	t.LastUpdate = s.now()
	return map[string]any{"updated": 1}, nil
}

// setStatus moves t to status when it is in one of from (or force).
func (s *Server) setStatus(c *call, status string, from ...string) (*Task, map[string]any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, nil, err
	}
	if !gBool(c.body, "force") && !inList(t.Status, from) {
		return nil, nil, invalidStatus(t, "Invalid status change: "+t.Status+" → "+status)
	}
	now := s.now()
	t.Status = status
	t.StatusReason = gStr(c.body, "status_reason")
	t.StatusMessage = gStr(c.body, "status_message")
	t.LastUpdate = now
	fields := map[string]any{
		"status": status, "status_reason": t.StatusReason, "status_message": t.StatusMessage,
		"status_changed": isoTime(now), "last_update": isoTime(now),
	}
	return t, fields, nil
}

func (s *Server) tasksStarted(c *call) (any, *apiError) {
	t, fields, err := s.setStatus(c, StatusInProgress, StatusCreated, StatusQueued)
	if err != nil {
		return nil, err
	}
	t.Started = t.LastUpdate
	fields["started"] = isoTime(t.Started)
	return map[string]any{"updated": 1, "started": 1, "fields": fields}, nil
}

func (s *Server) tasksCompleted(c *call) (any, *apiError) {
	t, fields, err := s.setStatus(c, StatusCompleted, StatusInProgress)
	if err != nil {
		return nil, err
	}
	t.Completed = t.LastUpdate
	fields["completed"] = isoTime(t.Completed)
	if gBool(c.body, "publish") {
		t.Status = StatusPublished
		fields["status"] = StatusPublished
		for _, r := range t.Models {
			if m := s.model(r.Model); m != nil {
				m.Ready = true
			}
		}
	}
	return map[string]any{"updated": 1, "fields": fields}, nil
}

func (s *Server) tasksStopped(c *call) (any, *apiError) {
	_, fields, err := s.setStatus(c, StatusStopped, StatusInProgress, StatusQueued)
	if err != nil {
		return nil, err
	}
	return map[string]any{"updated": 1, "fields": fields}, nil
}

func (s *Server) tasksFailed(c *call) (any, *apiError) {
	_, fields, err := s.setStatus(c, StatusFailed, StatusCreated, StatusQueued, StatusInProgress, StatusStopped)
	if err != nil {
		return nil, err
	}
	return map[string]any{"updated": 1, "fields": fields}, nil
}

func (s *Server) tasksClose(c *call) (any, *apiError) {
	_, fields, err := s.setStatus(c, StatusClosed, StatusStopped)
	if err != nil {
		return nil, err
	}
	return map[string]any{"updated": 1, "fields": fields}, nil
}

func (s *Server) tasksPing(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	t.Pings++
	t.LastUpdate = s.now()
	return map[string]any{}, nil
}

func (s *Server) tasksUpdate(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	if err := checkName(c.body, "name"); err != nil {
		return nil, err
	}
	if err := s.checkProject(c.body); err != nil {
		return nil, err
	}
	b := c.body
	if has(b, "name") {
		t.Name = gStr(b, "name")
	}
	if has(b, "tags") {
		t.Tags = gStrs(b, "tags")
	}
	if has(b, "system_tags") {
		t.SystemTags = gStrs(b, "system_tags")
	}
	if has(b, "comment") {
		t.Comment = gStr(b, "comment")
	}
	if has(b, "project") {
		t.Project = gStr(b, "project")
	}
	t.LastUpdate = s.now()
	return map[string]any{"updated": 1, "fields": map[string]any{}}, nil
}

func (s *Server) tasksAddOrUpdateModel(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	if !inList(t.Status, []string{StatusCreated, StatusInProgress, StatusQueued}) {
		return nil, invalidStatus(t, "Invalid status change: cannot update models of a "+t.Status+" task")
	}
	mid := gStr(c.body, "model")
	if s.model(mid) == nil {
		return nil, invalidModel(mid)
	}
	ref := ModelRef{Name: gStr(c.body, "name"), Model: mid}
	list := &t.Models
	if gStr(c.body, "type") == "input" {
		list = &t.InputModels
	}
	replaced := false
	for i, r := range *list {
		if r.Name == ref.Name {
			(*list)[i] = ref
			replaced = true
		}
	}
	if !replaced {
		*list = append(*list, ref)
	}
	t.LastUpdate = s.now()
	return map[string]any{"updated": 1}, nil
}

// executionJSON is execution as sent plus the artifacts list, where the
// server keeps them.
func (t *Task) executionJSON() map[string]any {
	e := orEmpty(t.Execution)
	if len(t.Artifacts) > 0 {
		a := make([]any, len(t.Artifacts))
		for i, x := range t.Artifacts {
			a[i] = deepCopyMap(x.Raw)
		}
		e["artifacts"] = a
	}
	return e
}

func (s *Server) tasksAddOrUpdateArtifacts(c *call) (any, *apiError) {
	t, err := s.getTask(c)
	if err != nil {
		return nil, err
	}
	if err := editableParams(t, gBool(c.body, "force")); err != nil {
		return nil, err
	}
	items, _ := c.body["artifacts"].([]any)
	for _, it := range items {
		raw := plainMap(it.(map[string]any))
		if gStr(raw, "mode") == "" {
			raw["mode"] = "output"
		}
		a := Artifact{Key: gStr(raw, "key"), Type: gStr(raw, "type"), Mode: gStr(raw, "mode"),
			URI: gStr(raw, "uri"), Hash: gStr(raw, "hash"), ContentSize: gInt(raw, "content_size", 0),
			Timestamp: gInt(raw, "timestamp", 0), Raw: raw}
		replaced := false
		for i, old := range t.Artifacts {
			if old.Key == a.Key && old.Mode == a.Mode {
				t.Artifacts[i] = a
				replaced = true
			}
		}
		if !replaced {
			t.Artifacts = append(t.Artifacts, a)
		}
	}
	t.LastUpdate = s.now()
	return map[string]any{"updated": 1}, nil
}
