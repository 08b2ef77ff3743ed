package clearmltest

// json is the model as models.get_all and get_by_id return it at schema
// version sv.
func (m *Model) json(sv string) map[string]any {
	labels := map[string]any{}
	for k, v := range m.Labels {
		labels[k] = v
	}
	o := map[string]any{
		"id":          m.ID,
		"name":        m.Name,
		"uri":         m.URI,
		"framework":   m.Framework,
		"task":        m.Task,
		"project":     m.Project,
		"parent":      m.Parent,
		"comment":     m.Comment,
		"tags":        strsOrEmpty(m.Tags),
		"system_tags": strsOrEmpty(m.SystemTags),
		"ready":       m.Ready,
		"labels":      labels,
		"design":      orEmpty(m.Design),
		"created":     isoTime(m.Created),
	}
	if !verLess(sv, "2.20") {
		o["metadata"] = orEmpty(m.Metadata)
		o["last_update"] = isoTime(m.LastUpdate)
	}
	return o
}

// checkModelRefs verifies the optional project and task of a model.
func (s *Server) checkModelRefs(b map[string]any) *apiError {
	if err := s.checkProject(b); err != nil {
		return err
	}
	if id := gStr(b, "task"); id != "" && s.task(id) == nil {
		return invalidTask(id)
	}
	return nil
}

func applyModelFields(m *Model, b map[string]any) {
	for k, dst := range map[string]*string{"uri": &m.URI, "name": &m.Name, "comment": &m.Comment,
		"framework": &m.Framework, "project": &m.Project, "parent": &m.Parent, "task": &m.Task} {
		if has(b, k) {
			*dst = gStr(b, k)
		}
	}
	if has(b, "tags") {
		m.Tags = gStrs(b, "tags")
	}
	if has(b, "system_tags") {
		m.SystemTags = gStrs(b, "system_tags")
	}
	if has(b, "ready") {
		m.Ready = gBool(b, "ready")
	}
	if has(b, "public") {
		m.Public = gBool(b, "public")
	}
	if has(b, "design") {
		m.Design = plainMap(gObj(b, "design"))
	}
	if has(b, "metadata") {
		m.Metadata = plainMap(gObj(b, "metadata"))
	}
	if has(b, "labels") {
		m.Labels = map[string]int64{}
		for k, v := range gObj(b, "labels") {
			m.Labels[k], _ = toInt(v)
		}
	}
	if has(b, "iteration") {
		m.Iteration = gInt(b, "iteration", 0)
	}
}

func (s *Server) modelsCreate(c *call) (any, *apiError) {
	if err := s.checkModelRefs(c.body); err != nil {
		return nil, err
	}
	now := s.now()
	m := &Model{ID: newID(), Created: now, LastUpdate: now}
	applyModelFields(m, c.body)
	s.models = append(s.models, m)
	return map[string]any{"id": m.ID, "created": true}, nil
}

func (s *Server) getModel(c *call) (*Model, *apiError) {
	id := gStr(c.body, "model")
	m := s.model(id)
	if m == nil {
		return nil, invalidModel(id)
	}
	return m, nil
}

func (s *Server) modelsEdit(c *call) (any, *apiError) {
	m, err := s.getModel(c)
	if err != nil {
		return nil, err
	}
	if err := s.checkModelRefs(c.body); err != nil {
		return nil, err
	}
	applyModelFields(m, c.body)
	m.LastUpdate = s.now()
	fields := map[string]any{}
	for k, v := range c.body {
		if k != "model" {
			fields[k] = plain(v)
		}
	}
	return map[string]any{"updated": 1, "fields": fields}, nil
}

func (s *Server) modelsGetAll(c *call) (any, *apiError) {
	re, aerr := nameFilter(c.body)
	if aerr != nil {
		return nil, aerr
	}
	b := c.body
	var objs []map[string]any
	for _, m := range s.models {
		if re != nil && !re.MatchString(m.Name) {
			continue
		}
		if !inList(m.ID, gStrs(b, "id")) || !inList(m.Task, gStrs(b, "task")) ||
			!inList(m.Project, gStrs(b, "project")) || !inList(m.Framework, gStrs(b, "framework")) ||
			!tagsMatch(m.Tags, gStrs(b, "tags")) || !tagsMatch(m.SystemTags, gStrs(b, "system_tags")) {
			continue
		}
		if has(b, "ready") && m.Ready != gBool(b, "ready") {
			continue
		}
		objs = append(objs, m.json(c.schemaVer))
	}
	objs = sortObjs(objs, gStrs(b, "order_by"))
	objs = paginate(objs, b)
	out := make([]any, 0, len(objs))
	for _, o := range objs {
		out = append(out, onlyFields(o, gStrs(b, "only_fields")))
	}
	return map[string]any{"models": out}, nil
}

func (s *Server) modelsGetByID(c *call) (any, *apiError) {
	m, err := s.getModel(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"model": m.json(c.schemaVer)}, nil
}

// modelsUpdateForTask is the legacy models.update_for_task: above API 2.13
// the server answers 301 (use tasks.add_or_update_model); the fake does
// not implement the older call.
func (s *Server) modelsUpdateForTask(c *call) (any, *apiError) {
	if verLess("2.13", c.ver) {
		return nil, errf(301, 0, "Moved permanently (use tasks.add_or_update_model)")
	}
	return nil, errf(500, 0, "clearmltest: models.update_for_task at API %s is not implemented by the fake", c.ver)
}
