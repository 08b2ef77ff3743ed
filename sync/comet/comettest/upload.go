package comettest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

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

// uploadAsset stores an upload whose query parameters are valid against
// their schema (which requires experimentKey, fileName, and groupingName
// for a model element).
func (s *Server) uploadAsset(c *call) (any, *apiError) {
	q := c.query
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
	a.Step, a.Epoch = queryInt(q, "step"), queryInt(q, "epoch")
	a.Overwrite = strings.EqualFold(q.Get("overwrite"), "true")
	data, meta, err := s.readParts(c, a.Type)
	if err != nil {
		return nil, err
	}
	a.Data, a.Metadata = data, meta
	a.Size = int64(len(data))
	sum := sha256.Sum256(data)
	a.SHA256 = hex.EncodeToString(sum[:])
	if err := checkUpload(a.Type, data, meta); err != nil {
		return nil, err
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
func (s *Server) readParts(c *call, typ string) ([]byte, string, *apiError) {
	mt, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, "", &apiError{status: http.StatusUnsupportedMediaType, invalid: true,
			msg: "Content-Type must be multipart/form-data with a boundary"}
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
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
				return nil, "", refused(uploadLimitCode(typ), "Upload limit reached: file is %d bytes, limit %d", len(b), s.MaxUploadBytes)
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

// queryInt returns an integer query parameter (its schema made sure it
// is one), nil when absent.
func queryInt(q url.Values, k string) *int64 {
	i, err := strconv.ParseInt(q.Get(k), 10, 64)
	if err != nil {
		return nil
	}
	return &i
}

// checkUpload checks what an upload carries: metadata is a JSON object,
// an image's annotations and a confusion matrix are as comet-api.md §6
// gives them (their schemas under asset/, plus what JSON Schema cannot
// say: polygons of x, y pairs, an n×n matrix).
func checkUpload(typ string, data []byte, meta string) *apiError {
	schemas, err := loadSchemas()
	if err != nil {
		return &apiError{status: http.StatusInternalServerError, msg: "fake server: schemas: " + err.Error()}
	}
	if meta != "" {
		m, aerr := decodeObject([]byte(meta))
		if aerr != nil {
			return badRequest(0, "Form part metadata must be a JSON object")
		}
		if typ == "image" {
			if aerr := schemas.check("asset/image-metadata.json", m, inFile); aerr != nil {
				return badRequest(0, "Invalid image annotations: %s", aerr.msg)
			}
			if err := checkPolygons(m); err != nil {
				return badRequest(0, "Invalid image annotations: %v", err)
			}
		}
	}
	if typ == "confusion-matrix" {
		cm, aerr := decodeObject(data)
		if aerr != nil {
			return badRequest(0, "Invalid confusion matrix: not a JSON object")
		}
		if aerr := schemas.check("asset/confusion-matrix.json", cm, inFile); aerr != nil {
			return badRequest(0, "Invalid confusion matrix: %s", aerr.msg)
		}
		if err := checkSquare(cm); err != nil {
			return badRequest(0, "Invalid confusion matrix: %v", err)
		}
	}
	return nil
}

// checkPolygons requires every polygon of annotations valid against
// asset/image-metadata.json to be x, y pairs.
func checkPolygons(meta map[string]any) error {
	layers, _ := meta["annotations"].([]any)
	for i, l := range layers {
		for j, d := range l.(map[string]any)["data"].([]any) {
			polys, _ := d.(map[string]any)["points"].([]any)
			for k, p := range polys {
				if len(p.([]any))%2 != 0 {
					return fmt.Errorf("annotations[%d].data[%d].points[%d] has an odd number of coordinates", i, j, k)
				}
			}
		}
	}
	return nil
}

// checkSquare requires the matrix of a confusion matrix valid against
// asset/confusion-matrix.json to be n×n, n the number of labels.
func checkSquare(cm map[string]any) error {
	n := len(cm["labels"].([]any))
	rows := cm["matrix"].([]any)
	if len(rows) != n {
		return fmt.Errorf("matrix has %d rows, labels has %d entries", len(rows), n)
	}
	for i, r := range rows {
		if len(r.([]any)) != n {
			return fmt.Errorf("matrix row %d must have %d numbers", i, n)
		}
	}
	if sm, ok := cm["sampleMatrix"].([]any); ok && len(sm) != n {
		return fmt.Errorf("sampleMatrix must be null or an n×n list")
	}
	return nil
}
