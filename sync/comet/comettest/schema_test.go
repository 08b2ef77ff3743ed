package comettest

import (
	"encoding/json"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// TestSchemas_CompiledAndUsed: every document compiles, every route's
// schema exists, every JSON POST has a body schema, and no document is
// left unused.
func TestSchemas_CompiledAndUsed(t *testing.T) {
	set, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{"defs.json": true, "response/error.json": true,
		"asset/image-metadata.json": true, "asset/confusion-matrix.json": true}
	for name, rt := range routes {
		for _, doc := range []string{rt.query, rt.body, rt.answer} {
			if doc == "" {
				continue
			}
			if set.compiled[doc] == nil {
				t.Errorf("%s: no schema %s", name, doc)
			}
			used[doc] = true
		}
		if rt.method == "POST" && rt.body == "" && name != "write/experiment/upload-asset" {
			t.Errorf("%s: a JSON POST without a body schema", name)
		}
		if rt.method == "GET" && rt.query == "" && name != "account-details" && name != "workspaces" {
			t.Errorf("%s: a GET without a query schema", name)
		}
	}
	var files []string
	_ = fs.WalkDir(schemaFiles, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(p, "schemas/"))
		}
		return err
	})
	sort.Strings(files)
	for _, f := range files {
		if !used[f] {
			t.Errorf("schemas/%s is used by no route", f)
		}
		if set.compiled[f] == nil {
			t.Errorf("schemas/%s is not compiled", f)
		}
	}
	if len(files) < 30 {
		t.Errorf("only %d schema files", len(files))
	}
}

// specExamples are the constructed examples of comet-api.md (§2, §5.9,
// §6.1, §6.2), <K> given a key's form: the schemas must accept them.
var specExamples = []struct{ doc, json string }{
	{"request/write/experiment/create.json", `{"workspaceName":"my-ws","projectName":"yolo-replay","experimentName":"train7"}`},
	{"request/write/experiment/parameter.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","parameterName":"lr0","parameterValue":0.01,"timestamp":1717000000500}`},
	{"request/write/experiment/log-other.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","key":"Created from","value":"ultralytics"}`},
	{"request/write/experiment/metric.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","metricName":"metrics/mAP50(B)","metricValue":0.512,"step":1850,"epoch":5,"timestamp":1717000100000}`},
	{"request/write/experiment/tags.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","addedTags":["ultralytics","yoloarchive"]}`},
	{"request/write/experiment/set-start-end-time.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","startTimeMillis":1717000000000,"endTimeMillis":1717003600000}`},
	{"request/write/experiment/update-status.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","isAlive":false,"error":null,"hasCrashed":false}`},
	{"request/write/project/create.json", `{"workspaceName":"my-ws","projectName":"yolo-replay","projectDescription":"d","isPublic":false}`},
	{"request/clientlib/batch/logger/experiment/metric.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","values":[{"metricName":"loss","metricValue":0.5,"step":1,"epoch":1,"context":null,"timestamp":1717000100000},{"metricName":"loss","metricValue":"NaN","step":null,"epoch":null,"context":"train","timestamp":1717000100001}]}`},
	{"request/clientlib/batch/logger/experiment/parameter.json", `{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","values":[{"parameterName":"lr0","parameterValue":0.01,"step":null,"source":"manual","context":null,"timestamp":1717000000500},{"parameterName":"names","parameterValue":["a","b"],"step":null,"source":"auto-logged","context":null,"timestamp":1717000000500}]}`},
	{"asset/confusion-matrix.json", `{"version":1,"title":"Confusion Matrix","labels":["person","car","background"],"matrix":[[50,2,5],[1,40,3],[4,6,0]],"rowLabel":"Actual Category","columnLabel":"Predicted Category","maxSamplesPerCell":25,"sampleMatrix":null,"type":null}`},
	{"asset/image-metadata.json", `{"annotations":[{"name":"ground_truth","data":[{"boxes":[[10,20,100,50]],"label":"gt_person","score":100.0},{"points":[[1,2,3,4,5,6]],"label":"dog","score":0.9,"id":"obj-7","metadata":{"any":"thing"}}]}]}`},
	{"asset/image-metadata.json", `{"annotations":[{"name":"prediction","data":[{"boxes":[[10,20,100,50]],"label":"person","score":87.5}]}]}`},
}

// specQueries are the upload-asset examples of comet-api.md §2.
var specQueries = []string{
	"experimentKey=3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7&fileName=val_batch0_pred.jpg&extension=jpg&type=image&step=1850&overwrite=false",
	"experimentKey=3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7&fileName=confusion-matrix.json&extension=json&type=confusion-matrix&step=1850&epoch=5",
	"experimentKey=3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7&fileName=best.pt&extension=pt&type=model-element&groupingName=Ultralytics&overwrite=true",
	"experimentKey=3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7&fileName=results.csv&extension=csv&type=asset",
}

func TestSchemas_AcceptSpecExamples(t *testing.T) {
	set, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range specExamples {
		v, err := decodeJSON([]byte(ex.json))
		if err != nil {
			t.Fatal(err)
		}
		if aerr := set.check(ex.doc, v, inBody); aerr != nil {
			t.Errorf("%s refuses %s: %s", ex.doc, ex.json, aerr.msg)
		}
	}
	for _, raw := range specQueries {
		q, _ := url.ParseQuery(raw)
		obj, aerr := queryObject(q)
		if aerr == nil {
			aerr = set.check("query/write/experiment/upload-asset.json", obj, inQuery)
		}
		if aerr != nil {
			t.Errorf("upload-asset query %s: %s", raw, aerr.msg)
		}
	}
}

// TestSchemas_DocumentedErrorCodes: a project name missing, empty or too
// long gets the documented sdk_error_code (comet-api.md §4.3), from the
// schema's x-comet-errors.
func TestSchemas_DocumentedErrorCodes(t *testing.T) {
	set, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"request/write/experiment/create.json", "request/write/project/create.json"} {
		for _, tc := range []struct {
			body string
			sdk  int
		}{
			{`{"workspaceName":"w"}`, CodeNoProjectName},
			{`{"workspaceName":"w","projectName":""}`, CodeNoProjectName},
			{`{"workspaceName":"w","projectName":"` + strings.Repeat("é", 100) + `"}`, CodeProjectNameTooLong},
			{`{"workspaceName":"w","projectName":7}`, 0},
			{`{"projectName":"p"}`, 0},
		} {
			v, _ := decodeJSON([]byte(tc.body))
			aerr := set.check(doc, v, inBody)
			if aerr == nil || aerr.status != 400 || aerr.sdk != tc.sdk {
				t.Errorf("%s %s: %v, want 400/%d", doc, tc.body, aerr, tc.sdk)
			}
		}
	}
}

// TestCheckAnswer_DocumentedFieldsOnly: an answer with a field the spec
// does not give, or without one it gives, does not pass.
func TestCheckAnswer_DocumentedFieldsOnly(t *testing.T) {
	set, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	asset := func(extra map[string]any) map[string]any {
		a := map[string]any{"assetId": "a1", "fileName": "f.jpg", "fileSize": 3, "step": nil, "type": "image",
			"metadata": nil, "dir": "images", "link": "http://x/get-asset"}
		for k, v := range extra {
			if v == nil {
				delete(a, k)
			} else {
				a[k] = v
			}
		}
		return map[string]any{"assets": []any{a}}
	}
	if err := set.checkAnswer("response/experiment/asset/list.json", asset(nil)); err != nil {
		t.Errorf("documented answer: %v", err)
	}
	for _, bad := range []map[string]any{{"epoch": 5}, {"groupingName": "Ultralytics"}, {"fileSize": nil}, {"step": 1.5}} {
		if err := set.checkAnswer("response/experiment/asset/list.json", asset(bad)); err == nil {
			t.Errorf("answer with %v passed", bad)
		} else {
			t.Logf("%v: %v", bad, err)
		}
	}
	b, _ := json.Marshal(map[string]any{"msg": "x", "sdk_error_code": 0, "code": 404, "extra": 1})
	var e map[string]any
	_ = json.Unmarshal(b, &e)
	if set.checkAnswer("response/error.json", e) == nil {
		t.Error("error answer with an extra field passed")
	}
}
