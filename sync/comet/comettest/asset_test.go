package comettest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

const goodCM = `{"version":1,"title":"Confusion Matrix","labels":["person","car","background"],
 "matrix":[[50,2,5],[1,40,3],[4,6,0]],"rowLabel":"Actual Category","columnLabel":"Predicted Category",
 "maxSamplesPerCell":25,"sampleMatrix":null,"type":null}`

const goodAnn = `{"annotations":[{"name":"ground_truth","data":[{"boxes":[[10,20,100,50]],"label":"gt_person","score":100}]},
 {"name":"prediction","data":[{"boxes":[[10,20,100,50.5]],"points":[[1,2,3,4,5,6]],"label":"person","score":87.5},
  {"points":[[1,2,3,4,5,6,7,8]],"label":"dog","score":null,"id":"o1","metadata":{"a":1}}]}]}`

func TestUploadValidation(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	s.MaxUploadBytes = 10
	for _, tc := range []struct {
		name string
		u    upload
		sdk  int
	}{
		{"no experimentKey", upload{query: q("fileName", "a.txt"), fileName: "a.txt", data: []byte("x")}, 0},
		{"unknown experiment", upload{query: q("experimentKey", "00000000000000000000000000000000", "fileName", "a.txt"), fileName: "a.txt", data: []byte("x")}, CodeNoWriteAccess},
		{"no fileName", upload{query: q("experimentKey", key), fileName: "a.txt", data: []byte("x")}, 0},
		{"unknown query", upload{query: q("experimentKey", key, "fileName", "a", "isRemote", "true"), fileName: "a", data: []byte("x")}, 0},
		{"bad type", upload{query: q("experimentKey", key, "fileName", "a", "type", "model"), fileName: "a", data: []byte("x")}, 0},
		{"bad step", upload{query: q("experimentKey", key, "fileName", "a", "step", "1.5"), fileName: "a", data: []byte("x")}, 0},
		{"bad overwrite", upload{query: q("experimentKey", key, "fileName", "a", "overwrite", "1"), fileName: "a", data: []byte("x")}, 0},
		{"model without groupingName", upload{query: q("experimentKey", key, "fileName", "best.pt", "type", "model-element"), fileName: "best.pt", data: []byte("x")}, 0},
		{"no file part", upload{query: q("experimentKey", key, "fileName", "a"), fileName: "-", metadata: strp("{}")}, 0},
		{"file without filename", upload{query: q("experimentKey", key, "fileName", "a"), fileName: "", data: []byte("x")}, 0},
		{"unknown part", upload{query: q("experimentKey", key, "fileName", "a"), fileName: "a", data: []byte("x"), extra: map[string]string{"link": "http://x"}}, 0},
		{"metadata not JSON", upload{query: q("experimentKey", key, "fileName", "a"), fileName: "a", data: []byte("x"), metadata: strp("{")}, 0},
		{"metadata array", upload{query: q("experimentKey", key, "fileName", "a"), fileName: "a", data: []byte("x"), metadata: strp("[1]")}, 0},
		{"too big", upload{query: q("experimentKey", key, "fileName", "a"), fileName: "a", data: []byte("01234567890")}, CodeUploadLimit},
		{"too big model", upload{query: q("experimentKey", key, "fileName", "a", "type", "model-element", "groupingName", "M"), fileName: "a", data: []byte("01234567890")}, 7000014},
	} {
		r := c.upload(tc.u)
		checkErr(t, r, tc.name, 400, tc.sdk)
		t.Logf("%s: %s", tc.name, r.body["msg"])
	}
	s.MaxUploadBytes = 0
	img := func(meta string) resp {
		return c.upload(upload{query: q("experimentKey", key, "fileName", "b.jpg", "type", "image"), fileName: "b.jpg", data: []byte("jpg"), metadata: &meta})
	}
	for _, meta := range []string{
		`{"annotations":{}}`,
		`{"annotations":[{"name":"","data":[{"boxes":[[1,2,3,4]],"label":"a"}]}]}`,
		`{"annotations":[{"name":"l","data":[]}]}`,
		`{"annotations":[{"name":"l"}]}`,
		`{"annotations":[{"name":"l","data":[{"boxes":[[1,2,3,4]]}]}]}`,
		`{"annotations":[{"name":"l","data":[{"boxes":[[1,2,3,4]],"label":5}]}]}`,
		`{"annotations":[{"name":"l","data":[{"boxes":[[1,2,3]],"label":"a"}]}]}`,
		`{"annotations":[{"name":"l","data":[{"boxes":[1,2,3,4],"label":"a"}]}]}`,
		`{"annotations":[{"name":"l","data":[{"boxes":[["1",2,3,4]],"label":"a"}]}]}`,
		`{"annotations":[{"name":"l","data":[{"points":[[1,2,3,4]],"label":"a"}]}]}`,
		`{"annotations":[{"name":"l","data":[{"points":[[1,2,3,4,5,6,7]],"label":"a"}]}]}`,
		`{"annotations":[{"name":"l","data":[{"label":"a"}]}]}`,
		`{"annotations":[{"name":"l","data":[{"boxes":[[1,2,3,4]],"label":"a","score":"high"}]}]}`,
		`{"annotations":[{"name":"l","data":[{"boxes":[[1,2,3,4]],"label":"a","bbox":[1,2,3,4]}]}]}`,
	} {
		r := img(meta)
		checkErr(t, r, "annotations "+meta, 400, 0)
		t.Logf("%s", r.body["msg"])
	}
	if r := img(goodAnn); r.status != 200 {
		t.Errorf("good annotations: %d %s", r.status, r.raw)
	}
	// Annotations are validated for images only; metadata is still kept.
	r := c.upload(upload{query: q("experimentKey", key, "fileName", "x.json"), fileName: "x.json", data: []byte("{}"), metadata: strp(`{"annotations":1}`)})
	if r.status != 200 {
		t.Errorf("asset with odd metadata: %d %s", r.status, r.raw)
	}
	cm := func(data string) resp {
		return c.upload(upload{query: q("experimentKey", key, "fileName", "confusion-matrix.json", "type", "confusion-matrix", "step", "1850", "epoch", "5"),
			fileName: "confusion-matrix.json", data: []byte(data)})
	}
	for _, bad := range []string{
		`not json`,
		`[]`,
		`{"title":"t","labels":["a"],"matrix":[[1]]}`,
		`{"version":1,"labels":["a"],"matrix":[[1]]}`,
		`{"version":1,"title":"t","matrix":[[1]]}`,
		`{"version":1,"title":"t","labels":["a"]}`,
		`{"version":1,"title":"t","labels":["a","b"],"matrix":[[1,2]]}`,
		`{"version":1,"title":"t","labels":["a","b"],"matrix":[[1,2],[3]]}`,
		`{"version":1,"title":"t","labels":["a","b"],"matrix":[[1,2],[3,"4"]]}`,
		`{"version":1,"title":"t","labels":[1],"matrix":[[1]]}`,
		`{"version":1,"title":"t","labels":["a"],"matrix":[[1]],"Matrix":[[1]]}`,
	} {
		r := cm(bad)
		checkErr(t, r, "confusion matrix "+bad, 400, 0)
		t.Logf("%s", r.body["msg"])
	}
	if r := cm(goodCM); r.status != 200 {
		t.Errorf("good confusion matrix: %d %s", r.status, r.raw)
	}
	e, _ := s.Experiment(key)
	if len(e.Assets) != 3 {
		t.Errorf("%d assets, want 3", len(e.Assets))
	}
	if a := e.Assets[2]; a.Type != "confusion-matrix" || *a.Step != 1850 || *a.Epoch != 5 {
		t.Errorf("cm asset %+v", a)
	}
}

func TestUploadOverwriteAndReads(t *testing.T) {
	s, c := newClient(t)
	key := c.create("p", "")
	up := func(name, typ, group, overwrite, data string) string {
		t.Helper()
		qv := q("experimentKey", key, "fileName", name, "type", typ, "extension", "pt")
		if group != "" {
			qv.Set("groupingName", group)
		}
		if overwrite != "" {
			qv.Set("overwrite", overwrite)
		}
		r := c.upload(upload{query: qv, fileName: name, data: []byte(data)})
		if r.status != 200 {
			t.Fatalf("upload %s: %d %s", name, r.status, r.raw)
		}
		if r.body["fileName"] != name {
			t.Errorf("answer %s", r.raw)
		}
		id, _ := r.body["assetId"].(string)
		return id
	}
	id1 := up("best.pt", "model-element", "Ultralytics", "true", "v1")
	id2 := up("best.pt", "model-element", "Ultralytics", "True", "v2")
	if id1 != id2 {
		t.Errorf("overwrite changed the id: %s %s", id1, id2)
	}
	id3 := up("best.pt", "model-element", "Other", "true", "v3")
	id4 := up("best.pt", "model-element", "Ultralytics", "false", "v4")
	id5 := up("best.pt", "model-element", "Ultralytics", "", "v5")
	id6 := up("best.pt", "asset", "", "true", "v6")
	ids := map[string]bool{id1: true, id3: true, id4: true, id5: true, id6: true}
	if len(ids) != 5 {
		t.Errorf("ids not distinct: %v", ids)
	}
	e, _ := s.Experiment(key)
	if len(e.Assets) != 5 || string(e.Assets[0].Data) != "v2" || e.Assets[0].ID != id1 || !e.Assets[0].Overwrite ||
		e.Assets[0].Size != 2 || e.Assets[0].Extension != "pt" || e.Assets[0].GroupingName != "Ultralytics" {
		t.Errorf("assets %+v", e.Assets)
	}
	if sum := sha256.Sum256([]byte("v2")); e.Assets[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha %s", e.Assets[0].SHA256)
	}
	r := c.ok("experiment/asset/list?experimentKey="+key, nil)
	as, _ := r.body["assets"].([]any)
	if len(as) != 5 {
		t.Fatalf("list %s", r.raw)
	}
	a0 := as[0].(map[string]any)
	if a0["assetId"] != id1 || a0["fileSize"] != 2.0 || a0["type"] != "model-element" || a0["dir"] != "model-element" || a0["metadata"] != nil {
		t.Errorf("asset 0 %v", a0)
	}
	r = c.ok("experiment/asset/list?experimentKey="+key+"&type=asset", nil)
	if as, _ := r.body["assets"].([]any); len(as) != 1 || as[0].(map[string]any)["assetId"] != id6 {
		t.Errorf("filtered list %s", r.raw)
	}
	r = c.ok("experiment/model?experimentKey="+key, nil)
	var models []map[string]any
	if err := json.Unmarshal(r.raw, &models); err != nil || len(models) != 2 || models[0]["modelName"] != "Ultralytics" ||
		models[1]["modelName"] != "Other" || models[0]["experimentKey"] != key || models[0]["experimentModelId"] == "" {
		t.Errorf("models %s", r.raw)
	}
	r = c.ok("experiment/asset/get-asset?experimentKey="+key+"&assetId="+id1, nil)
	if !bytes.Equal(r.raw, []byte("v2")) {
		t.Errorf("get-asset %q", r.raw)
	}
	link, _ := a0["link"].(string)
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Authorization", s.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Errorf("link %s: %v %v", link, err, res)
	}
	if res != nil {
		res.Body.Close()
	}
	r = c.do(http.MethodGet, "experiment/asset/get-asset?experimentKey="+key+"&assetId=nope", nil)
	checkErr(t, r, "unknown asset", 404, 0)
}
