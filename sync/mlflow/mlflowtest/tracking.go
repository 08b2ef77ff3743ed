package mlflowtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// JSON answers, as message_to_json renders the protos: proto field names,
// int64 as numbers, empty repeated fields left out.

type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func experimentJSON(e *experiment) map[string]any {
	out := map[string]any{"experiment_id": e.ID, "name": e.Name, "artifact_location": e.ArtifactLocation,
		"lifecycle_stage": e.LifecycleStage, "creation_time": e.CreationTime, "last_update_time": e.LastUpdateTime}
	if len(e.tags) > 0 {
		out["tags"] = sortedKV(e.tags)
	}
	return out
}

func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// protoDouble renders a double as proto JSON does ("NaN", "Infinity").
func protoDouble(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// metricOut is a Metric as the server answers it. Its fields are in the
// order encoding/json writes a map's keys (sorted), the order the server
// wrote them when they were maps; a struct keeps a page of history a
// few words a point.
type metricOut struct {
	Key       string `json:"key"`
	Step      int64  `json:"step"`
	Timestamp int64  `json:"timestamp"`
	Value     any    `json:"value"`
}

func metricJSON(m filestore.Metric) metricOut {
	return metricOut{Key: m.Key, Value: protoDouble(m.Value), Timestamp: m.Timestamp, Step: m.Step}
}

func runInfoJSON(i filestore.RunInfo) map[string]any {
	out := map[string]any{"run_id": i.RunID, "run_uuid": i.RunID, "run_name": i.RunName, "experiment_id": i.ExperimentID,
		"user_id": i.UserID, "status": i.Status.String(), "start_time": i.StartTime, "artifact_uri": i.ArtifactURI,
		"lifecycle_stage": i.LifecycleStage}
	if i.EndTime != nil {
		out["end_time"] = *i.EndTime
	}
	return out
}

// runJSON is Run.to_proto: info, and data with each metric's latest
// value (the largest (step, timestamp, value), as get_run reports it).
func runJSON(r *run) map[string]any {
	data := map[string]any{}
	var latest []metricOut
	for _, k := range r.metricOrder {
		h := r.metrics[k]
		best := h[0]
		for _, m := range h[1:] {
			if m.Step > best.Step || m.Step == best.Step && (m.Timestamp > best.Timestamp || m.Timestamp == best.Timestamp && m.Value > best.Value) {
				best = m
			}
		}
		latest = append(latest, metricJSON(best))
	}
	if len(latest) > 0 {
		data["metrics"] = latest
	}
	if len(r.params) > 0 {
		data["params"] = sortedKV(r.params)
	}
	if len(r.tags) > 0 {
		data["tags"] = sortedKV(r.tags)
	}
	return map[string]any{"info": runInfoJSON(r.info), "data": data, "inputs": map[string]any{}}
}

func (s *Server) findExperiment(id string) *experiment {
	for _, e := range s.experiments {
		if e.ID == id {
			return e
		}
	}
	return nil
}

func (s *Server) getExperimentByName(c *call) (any, *apiError) {
	name, e := str(c.fields, "experiment_name", "experiment_name", true)
	if e != nil {
		return nil, e
	}
	for _, x := range s.experiments {
		if x.Name == name {
			return map[string]any{"experiment": experimentJSON(x)}, nil
		}
	}
	return nil, notFound("Could not find experiment with name '%s'", name)
}

func (s *Server) getExperiment(c *call) (any, *apiError) {
	id, e := str(c.fields, "experiment_id", "experiment_id", true)
	if e != nil {
		return nil, e
	}
	x := s.findExperiment(id)
	if x == nil {
		return nil, notFound("No Experiment with id=%s exists", id)
	}
	return map[string]any{"experiment": experimentJSON(x)}, nil
}

func (s *Server) createExperiment(c *call) (any, *apiError) {
	name, e := str(c.fields, "name", "name", true)
	if e != nil {
		return nil, e
	}
	loc, e := str(c.fields, "artifact_location", "artifact_location", false)
	if e != nil {
		return nil, e
	}
	tags, e := keyValues(c.fields, "tags")
	if e != nil {
		return nil, e
	}
	if n := len([]rune(name)); n > filestore.MaxExperimentNameLength {
		return nil, invalidParam("Experiment name exceeds the maximum length of %d characters", filestore.MaxExperimentNameLength)
	}
	for _, t := range tags {
		if err := filestore.ValidateKey("tag", t[0]); err != nil {
			return nil, invalidParam("%v", err)
		}
	}
	for _, x := range s.experiments {
		if x.Name == name {
			return nil, stateError("RESOURCE_ALREADY_EXISTS", "Experiment '%s' already exists.", name)
		}
	}
	id := strconv.Itoa(len(s.experiments))
	if loc == "" {
		loc = "mlflow-artifacts:/" + id
		if s.NoServeArtifacts {
			loc = "file:///mlflow/mlruns/" + id
		}
	}
	ms := s.now().UnixMilli()
	x := &experiment{Experiment: filestore.Experiment{ID: id, Name: name, ArtifactLocation: loc, LifecycleStage: filestore.Active,
		CreationTime: ms, LastUpdateTime: ms}, tags: map[string]string{}}
	for _, t := range tags {
		x.tags[t[0]] = t[1]
	}
	s.experiments = append(s.experiments, x)
	return map[string]any{"experiment_id": id}, nil
}

func (s *Server) createRun(c *call) (any, *apiError) {
	expID, e := str(c.fields, "experiment_id", "experiment_id", false)
	if e != nil {
		return nil, e
	}
	user, e := str(c.fields, "user_id", "user_id", false)
	if e != nil {
		return nil, e
	}
	name, e := str(c.fields, "run_name", "run_name", false)
	if e != nil {
		return nil, e
	}
	start, _, e := int64Field(c.fields, "start_time", "start_time", false)
	if e != nil {
		return nil, e
	}
	tags, e := keyValues(c.fields, "tags")
	if e != nil {
		return nil, e
	}
	if err := filestore.ValidateExperimentID(expID); err != nil {
		return nil, invalidParam("Invalid experiment ID: '%s'", expID)
	}
	x := s.findExperiment(expID)
	if x == nil {
		return nil, notFound("No Experiment with id=%s exists", expID)
	}
	var nameTag string
	for _, t := range tags {
		if err := filestore.ValidateKey("tag", t[0]); err != nil {
			return nil, invalidParam("%v", err)
		}
		if t[0] == filestore.TagRunName {
			nameTag = t[1]
		}
	}
	if name != "" && nameTag != "" && name != nameTag {
		return nil, invalidParam("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", name, nameTag)
	}
	if name == "" {
		name = nameTag
	}
	id := filestore.NewRunID()
	if name == "" {
		name = "fake-run-" + id[:6] // MLflow picks a random "adjective-noun-NNN"
	}
	r := &run{info: filestore.RunInfo{RunID: id, RunName: name, ExperimentID: expID, UserID: user, Status: filestore.Running,
		StartTime: start, ArtifactURI: strings.TrimSuffix(x.ArtifactLocation, "/") + "/" + id + "/artifacts", LifecycleStage: filestore.Active},
		params: map[string]string{}, tags: map[string]string{}, metrics: map[string][]filestore.Metric{}}
	for _, t := range tags {
		r.tags[t[0]] = t[1]
	}
	r.tags[filestore.TagRunName] = name
	s.runs[id] = r
	s.runOrder = append(s.runOrder, id)
	return map[string]any{"run": runJSON(r)}, nil
}

func (s *Server) findRun(id string) (*run, *apiError) {
	if err := filestore.ValidateRunID(id); err != nil {
		return nil, invalidParam("Invalid run ID: '%s'", id)
	}
	r := s.runs[id]
	if r == nil {
		return nil, notFound("Run with id=%s not found", id)
	}
	return r, nil
}

func (s *Server) updateRun(c *call) (any, *apiError) {
	id, e := runID(c.fields)
	if e != nil {
		return nil, e
	}
	end, hasEnd, e := int64Field(c.fields, "end_time", "end_time", false)
	if e != nil {
		return nil, e
	}
	st, e := str(c.fields, "status", "status", false)
	if e != nil {
		return nil, e
	}
	name, e := str(c.fields, "run_name", "run_name", false)
	if e != nil {
		return nil, e
	}
	var status filestore.Status
	if st != "" {
		var err error
		if status, err = filestore.ParseStatus(st); err != nil {
			return nil, invalidParam("Invalid value \"%s\" for parameter 'status' supplied.%s", st, apiDocs)
		}
	}
	r, e := s.findRun(id)
	if e != nil {
		return nil, e
	}
	if status != 0 {
		r.info.Status = status
	}
	if hasEnd {
		r.info.EndTime = &end
	}
	if name != "" {
		r.info.RunName = name
		r.tags[filestore.TagRunName] = name
	}
	return map[string]any{"run_info": runInfoJSON(r.info)}, nil
}

func (s *Server) getRun(c *call) (any, *apiError) {
	id, e := runID(c.fields)
	if e != nil {
		return nil, e
	}
	r, e := s.findRun(id)
	if e != nil {
		return nil, e
	}
	return map[string]any{"run": runJSON(r)}, nil
}

// MLflow's log-batch limits (validation.py).
const (
	MaxMetricsPerBatch    = 1000
	MaxParamsTagsPerBatch = 100
	MaxEntitiesPerBatch   = 1000
	MaxBatchRequestBytes  = 1_000_000
)

// longValue applies MLflow's length limit to a param or tag value.
func (s *Server) longValue(what string, limit int, v string) (string, *apiError) {
	r := []rune(v)
	if len(r) <= limit {
		return v, nil
	}
	if s.LongValues == TruncateLong {
		return string(r[:limit]), nil
	}
	return "", stateError("INVALID_PARAMETER_VALUE", "%s '%.250s' had length %d, which exceeded length limit of %d", what, v, len(r), limit)
}

type batch struct {
	metrics []filestore.Metric
	params  [][2]string
	tags    [][2]string
}

// apply validates a batch as FileStore.log_batch and the SQL store do
// (_validate_batch_log_data, _validate_batch_log_limits,
// _validate_param_keys_unique, the run, params that change), then writes
// all of it or, on any refusal, nothing.
func (s *Server) apply(runID string, b batch) *apiError {
	for _, m := range b.metrics {
		if err := filestore.ValidateKey("metric", m.Key); err != nil {
			return invalidParam("%v", err)
		}
		if m.Timestamp < 0 {
			return invalidParam("Got invalid timestamp %d for metric '%s' (value=%v). Timestamp must be a nonnegative long (64-bit integer) ", m.Timestamp, m.Key, m.Value)
		}
	}
	for i, p := range b.params {
		if err := filestore.ValidateKey("parameter", p[0]); err != nil {
			return invalidParam("%v", err)
		}
		v, e := s.longValue("Param value", filestore.MaxParamValueLength, p[1])
		if e != nil {
			return e
		}
		b.params[i][1] = v
	}
	for i, t := range b.tags {
		if err := filestore.ValidateKey("tag", t[0]); err != nil {
			return invalidParam("%v", err)
		}
		v, e := s.longValue("Tag value", filestore.MaxTagValueLength, t[1])
		if e != nil {
			return e
		}
		b.tags[i][1] = v
	}
	for _, lim := range []struct {
		what   string
		n, max int
	}{{"metrics", len(b.metrics), MaxMetricsPerBatch}, {"params", len(b.params), MaxParamsTagsPerBatch},
		{"tags", len(b.tags), MaxParamsTagsPerBatch}, {"metrics, params, and tags", len(b.metrics) + len(b.params) + len(b.tags), MaxEntitiesPerBatch}} {
		if lim.n > lim.max {
			return invalidParam("A batch logging request can contain at most %d %s. Got %d %s. Please split up %s across multiple requests and try again.", lim.max, lim.what, lim.n, lim.what, lim.what)
		}
	}
	seen := map[string]bool{}
	for _, p := range b.params {
		if seen[p[0]] {
			return invalidParam("Duplicate parameter keys have been submitted: ['%s']. Please ensure the request contains only one param value per param key.", p[0])
		}
		seen[p[0]] = true
	}
	r, e := s.findRun(runID)
	if e != nil {
		return e
	}
	if r.info.LifecycleStage != filestore.Active {
		return invalidParam("The run %s must be in the 'active' state. Current state is %s.", runID, r.info.LifecycleStage)
	}
	for _, p := range b.params {
		if old, ok := r.params[p[0]]; ok && old != p[1] {
			return stateError("INVALID_PARAMETER_VALUE", "Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.", p[0], old, runID, p[1])
		}
	}
	for _, p := range b.params {
		r.params[p[0]] = p[1]
	}
	for _, m := range b.metrics {
		if _, ok := r.metrics[m.Key]; !ok {
			r.metricOrder = append(r.metricOrder, m.Key)
		}
		r.metrics[m.Key] = append(r.metrics[m.Key], m)
	}
	for _, t := range b.tags {
		r.tags[t[0]] = t[1]
		if t[0] == filestore.TagRunName {
			r.info.RunName = t[1]
		}
	}
	return nil
}

func readMetric(o map[string]any, path string) (filestore.Metric, *apiError) {
	k, e := str(o, "key", path+".key", true)
	if e != nil {
		return filestore.Metric{}, e
	}
	v, e := double(o, "value", path+".value")
	if e != nil {
		return filestore.Metric{}, e
	}
	ts, _, e := int64Field(o, "timestamp", path+".timestamp", true)
	if e != nil {
		return filestore.Metric{}, e
	}
	step, _, e := int64Field(o, "step", path+".step", false)
	if e != nil {
		return filestore.Metric{}, e
	}
	return filestore.Metric{Key: k, Value: v, Timestamp: ts, Step: step}, nil
}

func (s *Server) logBatch(c *call) (any, *apiError) {
	if c.size > MaxBatchRequestBytes {
		return nil, invalidParam("Batched logging API requests must be at most %d bytes, got a request of size %d.", MaxBatchRequestBytes, c.size)
	}
	id, e := str(c.fields, "run_id", "run_id", true)
	if e != nil {
		return nil, e
	}
	ms, e := array(c.fields, "metrics")
	if e != nil {
		return nil, e
	}
	var b batch
	for i, it := range ms {
		o, ok := it.(map[string]any)
		if !ok {
			return nil, badValue("metrics", it)
		}
		m, e := readMetric(o, fmt.Sprintf("metrics[%d]", i))
		if e != nil {
			return nil, e
		}
		b.metrics = append(b.metrics, m)
	}
	if b.params, e = keyValues(c.fields, "params"); e != nil {
		return nil, e
	}
	if b.tags, e = keyValues(c.fields, "tags"); e != nil {
		return nil, e
	}
	if e := s.apply(id, b); e != nil {
		return nil, e
	}
	return map[string]any{}, nil
}

func (s *Server) logMetric(c *call) (any, *apiError) {
	id, e := runID(c.fields)
	if e != nil {
		return nil, e
	}
	m, e := readMetric(c.fields, "")
	if e != nil {
		return nil, e
	}
	if e := s.apply(id, batch{metrics: []filestore.Metric{m}}); e != nil {
		return nil, e
	}
	return map[string]any{}, nil
}

func (s *Server) logParam(c *call) (any, *apiError) {
	id, k, v, e := runKeyValue(c)
	if e != nil {
		return nil, e
	}
	if e := s.apply(id, batch{params: [][2]string{{k, v}}}); e != nil {
		return nil, e
	}
	return map[string]any{}, nil
}

func (s *Server) setTag(c *call) (any, *apiError) {
	id, k, v, e := runKeyValue(c)
	if e != nil {
		return nil, e
	}
	if e := s.apply(id, batch{tags: [][2]string{{k, v}}}); e != nil {
		return nil, e
	}
	return map[string]any{}, nil
}

// runKeyValue reads the run id, the key (required) and the value of a
// log-parameter or set-tag request.
func runKeyValue(c *call) (id, k, v string, e *apiError) {
	if id, e = runID(c.fields); e != nil {
		return "", "", "", e
	}
	if k, e = str(c.fields, "key", "key", true); e != nil {
		return "", "", "", e
	}
	if v, e = str(c.fields, "value", "value", false); e != nil {
		return "", "", "", e
	}
	return id, k, v, nil
}

// Page tokens are SearchUtils.create_page_token:
// base64(json.dumps({"offset": n})).
func pageToken(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`{"offset": %d}`, offset)))
}

// parsePageToken is SearchUtils.parse_start_offset_from_page_token.
func parsePageToken(tok string) (int, *apiError) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return 0, invalidParam("Invalid page token, could not base64-decode")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, invalidParam("Invalid page token, decoded value=%s", b)
	}
	f, ok := m["offset"].(float64)
	if !ok || f == 0 {
		return 0, invalidParam("Invalid page token, parsed value=%s", b)
	}
	if f != math.Trunc(f) || f < 0 {
		return 0, invalidParam("Invalid page token, not stringable %v", f)
	}
	return int(f), nil
}

// SearchMaxResults is SEARCH_MAX_RESULTS_THRESHOLD; SearchDefault the
// proto default of max_results.
const (
	SearchMaxResults = 50000
	SearchDefault    = 1000
)

func (s *Server) searchRuns(c *call) (any, *apiError) {
	ids, e := array(c.fields, "experiment_ids")
	if e != nil {
		return nil, e
	}
	filter, e := str(c.fields, "filter", "filter", false)
	if e != nil {
		return nil, e
	}
	max, has, e := int64Field(c.fields, "max_results", "max_results", false)
	if e != nil {
		return nil, e
	}
	if !has {
		max = SearchDefault
	}
	if max > SearchMaxResults {
		return nil, invalidParam("Invalid value %d for parameter 'max_results' supplied.%s", max, apiDocs)
	}
	if max < 1 {
		return nil, invalidParam("Invalid value for request parameter max_results. It must be at least 1, but got value %d", max)
	}
	if o, _ := array(c.fields, "order_by"); len(o) > 0 {
		return nil, invalidParam("fake server does not support order_by %v", o)
	}
	tok, e := str(c.fields, "page_token", "page_token", false)
	if e != nil {
		return nil, e
	}
	offset, e := parsePageToken(tok)
	if e != nil {
		return nil, e
	}
	conds, e := parseFilter(filter)
	if e != nil {
		return nil, e
	}
	var found []*run
	for _, it := range ids {
		id, ok := it.(string)
		if !ok {
			return nil, badValue("experiment_ids", it)
		}
		for _, rid := range s.runOrder {
			r := s.runs[rid]
			if r.info.ExperimentID == id && r.info.LifecycleStage == filestore.Active && matches(r, conds) {
				found = append(found, r)
			}
		}
	}
	// SearchUtils.sort: start_time descending, then run id.
	slices.SortStableFunc(found, func(a, b *run) int {
		if a.info.StartTime != b.info.StartTime {
			if a.info.StartTime > b.info.StartTime {
				return -1
			}
			return 1
		}
		return strings.Compare(a.info.RunID, b.info.RunID)
	})
	out := map[string]any{}
	end := min(offset+int(max), len(found))
	if offset < len(found) {
		var runs []map[string]any
		for _, r := range found[offset:end] {
			runs = append(runs, runJSON(r))
		}
		out["runs"] = runs
	}
	if end < len(found) {
		out["next_page_token"] = pageToken(end)
	}
	return out, nil
}

func (s *Server) getMetricHistory(c *call) (any, *apiError) {
	id, e := runID(c.fields)
	if e != nil {
		return nil, e
	}
	key, e := str(c.fields, "metric_key", "metric_key", true)
	if e != nil {
		return nil, e
	}
	tok, e := str(c.fields, "page_token", "page_token", false)
	if e != nil {
		return nil, e
	}
	max, hasMax, e := int64Field(c.fields, "max_results", "max_results", false)
	if e != nil {
		return nil, e
	}
	if s.History == HistoryFileStore && tok != "" {
		return nil, &apiError{code: "INTERNAL_ERROR", msg: fmt.Sprintf("The FileStore backend does not support pagination for the `get_metric_history` API. Supplied argument `page_token` '%s' must be `None`.", tok)}
	}
	if err := filestore.ValidateKey("metric", key); err != nil {
		return nil, invalidParam("%v", err)
	}
	r, e := s.findRun(id)
	if e != nil {
		return nil, e
	}
	h := r.metrics[key]
	out := map[string]any{}
	start, end := 0, len(h)
	if s.History == HistoryPaged {
		if start, e = parsePageToken(tok); e != nil {
			return nil, e
		}
		if hasMax && max > 0 {
			end = min(start+int(max), len(h))
		}
		if end < len(h) {
			out["next_page_token"] = pageToken(end)
		}
	}
	if start < end {
		ms := make([]metricOut, 0, end-start)
		for _, m := range h[start:end] {
			ms = append(ms, metricJSON(m))
		}
		out["metrics"] = ms
	}
	return out, nil
}

func (s *Server) listArtifacts(c *call) (any, *apiError) {
	id, e := runID(c.fields)
	if e != nil {
		return nil, e
	}
	p, e := str(c.fields, "path", "path", false)
	if e != nil {
		return nil, e
	}
	if p != "" {
		if err := filestore.ValidateArtifactPath(p); err != nil {
			return nil, invalidParam("Invalid path: %s", p)
		}
	}
	r, e := s.findRun(id)
	if e != nil {
		return nil, e
	}
	out := map[string]any{"root_uri": r.info.ArtifactURI}
	dir := s.artifactRoot(r)
	if p != "" {
		dir += "/" + p
	}
	var files []map[string]any
	for _, f := range s.listDir(dir) {
		rel := f.name
		if p != "" {
			rel = p + "/" + f.name
		}
		files = append(files, f.json(rel))
	}
	if len(files) > 0 {
		out["files"] = files
	}
	return out, nil
}
