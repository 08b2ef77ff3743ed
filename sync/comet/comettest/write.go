package comettest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// checkJSONType requires Content-Type application/json (parameters such as
// charset are allowed).
func checkJSONType(r *http.Request) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType,
			msg: "Content-Type must be application/json, got " + strconv.Quote(r.Header.Get("Content-Type"))}
	}
	return nil
}

// parseBody decodes and validates a JSON body.
func parseBody(body []byte, sc schema) (map[string]any, *apiError) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if err := validate(m, sc); err != nil {
		return nil, err
	}
	return m, nil
}

// writeExp returns the experiment named by key for a write.
func (s *Server) writeExp(key string) (*exp, *apiError) {
	e := s.byKey[key]
	if e == nil {
		return nil, badRequest(CodeNoWriteAccess, "No write access to experiment %s (or it does not exist)", key)
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
		return badRequest(CodeNoSuchWorkspace, "Workspace %s does not exist", ws)
	}
	return nil
}

func checkProjectName(name string) *apiError {
	if name == "" {
		return badRequest(CodeNoProjectName, "Missing project name")
	}
	if len([]rune(name)) >= 100 {
		return badRequest(CodeProjectNameTooLong, "Project name should be < 100 characters")
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

func (s *Server) createProject(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"workspaceName":      req(tStr),
		"projectName":        reqCode(tStr, CodeNoProjectName),
		"projectDescription": opt(tStr | tNull),
		"isPublic":           opt(tBool),
	})
	if err != nil {
		return nil, err
	}
	ws, name := b["workspaceName"].(string), b["projectName"].(string)
	if err := s.checkWorkspace(ws); err != nil {
		return nil, err
	}
	if err := checkProjectName(name); err != nil {
		return nil, err
	}
	if s.findProject(ws, name) != nil {
		return nil, badRequest(0, "Project already exists")
	}
	p := s.addProject(ws, name)
	p.description = optStr(b, "projectDescription")
	p.public, _ = b["isPublic"].(bool)
	return map[string]any{"projectId": p.id}, nil
}

func (s *Server) createExperiment(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"workspaceName":    req(tStr),
		"projectName":      reqCode(tStr, CodeNoProjectName),
		"experimentName":   opt(tStr),
		"disableHeartBeat": opt(tBool),
	})
	if err != nil {
		return nil, err
	}
	ws, name := b["workspaceName"].(string), b["projectName"].(string)
	if err := s.checkWorkspace(ws); err != nil {
		return nil, err
	}
	if err := checkProjectName(name); err != nil {
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

func (s *Server) logOther(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"experimentKey": req(tStr),
		"key":           req(tStr),
		"value":         req(tStr | tNum | tBool),
		"timestamp":     opt(tInt),
	})
	if err != nil {
		return nil, err
	}
	e, err := s.writeExp(b["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	k, v := b["key"].(string), stringForm(b["value"])
	if k == "" {
		return nil, badRequest(0, "Missing required field \"key\"")
	}
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

func (s *Server) logParameter(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"experimentKey":  req(tStr),
		"parameterName":  req(tStr),
		"parameterValue": req(tStr | tNum | tBool | tNull),
		"step":           opt(tInt | tNull),
		"timestamp":      opt(tInt),
		"context":        opt(tStr),
	})
	if err != nil {
		return nil, err
	}
	e, err := s.writeExp(b["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	name := b["parameterName"].(string)
	if name == "" {
		return nil, badRequest(0, "Missing required field \"parameterName\"")
	}
	if _, seen := e.Params[name]; !seen {
		e.paramOrder = append(e.paramOrder, name)
	}
	e.Params[name] = Param{
		Name:      name,
		Value:     plainValue(b["parameterValue"]),
		Step:      optInt(b, "step"),
		Context:   optStr(b, "context"),
		Timestamp: timestamp(b),
	}
	e.ParamWrites++
	return map[string]any{}, nil
}

func (s *Server) logMetric(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"experimentKey": req(tStr),
		"metricName":    req(tStr),
		"metricValue":   req(tStr | tNum),
		"step":          opt(tInt | tNull),
		"epoch":         opt(tInt | tNull),
		"context":       opt(tStr | tNull),
		"timestamp":     opt(tInt),
	})
	if err != nil {
		return nil, err
	}
	e, err := s.writeExp(b["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	name := b["metricName"].(string)
	if name == "" {
		return nil, badRequest(0, "Missing required field \"metricName\"")
	}
	v := plainValue(b["metricValue"])
	if str, ok := v.(string); ok {
		switch str {
		case "NaN", "Infinity", "-Infinity":
		default:
			return nil, badRequest(0, "Field \"metricValue\": %q is not a number", str)
		}
	}
	e.Metrics = append(e.Metrics, Metric{
		Name:      name,
		Value:     v,
		Step:      optInt(b, "step"),
		Epoch:     optInt(b, "epoch"),
		Context:   optStr(b, "context"),
		Timestamp: timestamp(b),
	})
	return map[string]any{}, nil
}

func (s *Server) addTags(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"experimentKey": req(tStr),
		"addedTags":     req(tStrs),
	})
	if err != nil {
		return nil, err
	}
	e, err := s.writeExp(b["experimentKey"].(string))
	if err != nil {
		return nil, err
	}
	tags := b["addedTags"].([]any)
	for _, t := range tags {
		if t.(string) == "" {
			return nil, badRequest(0, "Field \"addedTags\": empty tag")
		}
	}
	for _, t := range tags {
		if !slices.Contains(e.Tags, t.(string)) {
			e.Tags = append(e.Tags, t.(string))
		}
	}
	return map[string]any{}, nil
}

func (s *Server) setStartEnd(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"experimentKey":   req(tStr),
		"startTimeMillis": opt(tInt | tNull),
		"endTimeMillis":   opt(tInt | tNull),
	})
	if err != nil {
		return nil, err
	}
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

func (s *Server) updateStatus(r *http.Request, body []byte) (any, *apiError) {
	b, err := parseBody(body, schema{
		"experimentKey": req(tStr),
		"isAlive":       req(tBool),
		"error":         opt(tStr | tNull),
		"hasCrashed":    opt(tBool),
	})
	if err != nil {
		return nil, err
	}
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

// assetTypes are the accepted upload-asset types.
var assetTypes = []string{"asset", "image", "confusion-matrix", "model-element", "curve",
	"text-sample", "histogram3d", "dataframe", "source_code", "notebook", "audio", "video"}

// uploadQuery are the accepted upload-asset query parameters.
var uploadQuery = []string{"experimentKey", "fileName", "extension", "type", "step", "epoch",
	"context", "overwrite", "groupingName", "artifactVersionId"}

// uploadLimitCode is the sdk_error_code for an oversized upload of a type.
func uploadLimitCode(typ string) int {
	switch typ {
	case "text-sample":
		return 7000012
	case "histogram3d":
		return 7000013
	case "model-element":
		return 7000014
	case "curve":
		return 7000015
	case "notebook":
		return 7000016
	case "video":
		return 7000018
	}
	return CodeUploadLimit
}

// queryInt parses an optional integer query parameter.
func queryInt(q url.Values, k string) (*int64, *apiError) {
	if !q.Has(k) {
		return nil, nil
	}
	i, err := strconv.ParseInt(q.Get(k), 10, 64)
	if err != nil {
		return nil, badRequest(0, "Query parameter %s: %q is not an integer", k, q.Get(k))
	}
	return &i, nil
}

func (s *Server) uploadAsset(r *http.Request, body []byte) (any, *apiError) {
	q := r.URL.Query()
	for k, vs := range q {
		if !slices.Contains(uploadQuery, k) {
			return nil, badRequest(0, "Unrecognized query parameter %q", k)
		}
		if len(vs) > 1 {
			return nil, badRequest(0, "Query parameter %q given %d times", k, len(vs))
		}
	}
	if q.Get("experimentKey") == "" {
		return nil, badRequest(0, "Missing required query parameter experimentKey")
	}
	if q.Get("fileName") == "" {
		return nil, badRequest(0, "Missing required query parameter fileName")
	}
	e, err := s.writeExp(q.Get("experimentKey"))
	if err != nil {
		return nil, err
	}
	a := Asset{
		FileName:     q.Get("fileName"),
		Type:         q.Get("type"),
		Context:      q.Get("context"),
		GroupingName: q.Get("groupingName"),
		Extension:    q.Get("extension"),
		Timestamp:    nowMillis(),
	}
	if a.Type == "" {
		a.Type = "asset"
	}
	if !slices.Contains(assetTypes, a.Type) {
		return nil, badRequest(0, "Unknown asset type %q", a.Type)
	}
	if a.Type == "model-element" && a.GroupingName == "" {
		return nil, badRequest(0, "groupingName (the model name) is required for type model-element")
	}
	if a.Step, err = queryInt(q, "step"); err != nil {
		return nil, err
	}
	if a.Epoch, err = queryInt(q, "epoch"); err != nil {
		return nil, err
	}
	switch ow := q.Get("overwrite"); ow {
	case "", "false", "False":
	case "true", "True":
		a.Overwrite = true
	default:
		return nil, badRequest(0, "Query parameter overwrite: %q is not a boolean", ow)
	}
	data, meta, err := s.readParts(r, body, a.Type)
	if err != nil {
		return nil, err
	}
	a.Data, a.Metadata = data, meta
	a.Size = int64(len(data))
	sum := sha256.Sum256(data)
	a.SHA256 = hex.EncodeToString(sum[:])
	if meta != "" {
		m, err := decodeObject([]byte(meta))
		if err != nil {
			return nil, badRequest(0, "Form part metadata must be a JSON object")
		}
		if ann, ok := m["annotations"]; ok && a.Type == "image" {
			if err := validateAnnotations(ann); err != nil {
				return nil, badRequest(0, "Invalid image annotations: %v", err)
			}
		}
	}
	if a.Type == "confusion-matrix" {
		if err := validateConfusionMatrix(data); err != nil {
			return nil, badRequest(0, "Invalid confusion matrix: %v", err)
		}
	}
	replaced := false
	if a.Overwrite {
		for i := range e.Assets {
			o := &e.Assets[i]
			if o.FileName == a.FileName && o.Type == a.Type && o.GroupingName == a.GroupingName {
				a.ID = o.ID
				*o = a
				replaced = true
				break
			}
		}
	}
	if !replaced {
		a.ID = newID()
		e.Assets = append(e.Assets, a)
	}
	if a.Type == "model-element" {
		if _, ok := e.models[a.GroupingName]; !ok {
			e.models[a.GroupingName] = newID()
			e.modelOrder = append(e.modelOrder, a.GroupingName)
		}
	}
	return map[string]any{
		"assetId":       a.ID,
		"fileName":      a.FileName,
		"type":          a.Type,
		"experimentKey": e.Key,
		"link":          s.assetLink(e.Key, a.ID),
	}, nil
}

// readParts reads the multipart form: part "file" (with a filename,
// required) and optional part "metadata"; any other part is rejected.
func (s *Server) readParts(r *http.Request, body []byte, typ string) ([]byte, string, *apiError) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, "", &apiError{status: http.StatusUnsupportedMediaType,
			msg: "Content-Type must be multipart/form-data with a boundary"}
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var data []byte
	var meta string
	haveFile, haveMeta := false, false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", badRequest(0, "Malformed multipart body: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, "", badRequest(0, "Malformed multipart body: %v", err)
		}
		switch name := p.FormName(); name {
		case "file":
			if haveFile {
				return nil, "", badRequest(0, "Form part file given twice")
			}
			if p.FileName() == "" {
				return nil, "", badRequest(0, "Form part file needs a filename")
			}
			if s.MaxUploadBytes > 0 && int64(len(b)) > s.MaxUploadBytes {
				return nil, "", badRequest(uploadLimitCode(typ), "Upload limit reached: file is %d bytes, limit %d", len(b), s.MaxUploadBytes)
			}
			haveFile, data = true, b
		case "metadata":
			if haveMeta {
				return nil, "", badRequest(0, "Form part metadata given twice")
			}
			if !json.Valid(b) {
				return nil, "", badRequest(0, "Form part metadata must be a JSON object")
			}
			haveMeta, meta = true, string(b)
		default:
			return nil, "", badRequest(0, "Unrecognized form part %q", name)
		}
	}
	if !haveFile {
		return nil, "", badRequest(0, "Missing form part file")
	}
	return data, meta, nil
}

func (s *Server) assetLink(key, id string) string {
	return s.URL + RESTPrefix + "experiment/asset/get-asset?experimentKey=" +
		url.QueryEscape(key) + "&assetId=" + url.QueryEscape(id)
}
