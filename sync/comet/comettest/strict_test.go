package comettest

import (
	"encoding/json"
	"fmt"
	"testing"
)

// assetList is experiment/asset/list as a client decodes it.
type assetList struct {
	Assets []struct {
		FileName     string  `json:"fileName"`
		Type         string  `json:"type"`
		Step         *int64  `json:"step"`
		Epoch        *int64  `json:"epoch"`
		GroupingName *string `json:"groupingName"`
	} `json:"assets"`
}

// TestStrict_FailsClientRelyingOnDroppedField: upload-asset takes epoch
// and groupingName, but the asset list the server answers has neither
// (comet-api.md §3). A client that finds its uploads again by them, as
// one written against the earlier fake could (it echoed both back), never
// finds them here; one that keys them by what the list documents (file
// name, type, step: what sync/comet does) does.
func TestStrict_FailsClientRelyingOnDroppedField(t *testing.T) {
	_, c := newClient(t)
	key := c.create("p", "")
	for _, u := range []upload{
		{query: q("experimentKey", key, "fileName", "confusion-matrix.json", "type", "confusion-matrix", "step", "1850", "epoch", "5"),
			fileName: "confusion-matrix.json", data: []byte(goodCM)},
		{query: q("experimentKey", key, "fileName", "best.pt", "type", "model-element", "groupingName", "Ultralytics", "overwrite", "true"),
			fileName: "best.pt", data: []byte("weights")},
	} {
		if r := c.upload(u); r.status != 200 {
			t.Fatalf("upload: %d %s", r.status, r.raw)
		}
	}
	var list assetList
	if err := json.Unmarshal(c.ok("experiment/asset/list?experimentKey="+key, nil).raw, &list); err != nil {
		t.Fatal(err)
	}
	byEpoch := func(name string, epoch int64) bool { // relies on a dropped field
		for _, a := range list.Assets {
			if a.FileName == name && a.Epoch != nil && *a.Epoch == epoch {
				return true
			}
		}
		return false
	}
	byGroup := func(group string) bool { // likewise
		for _, a := range list.Assets {
			if a.GroupingName != nil && *a.GroupingName == group {
				return true
			}
		}
		return false
	}
	documented := func(name, typ string, step *int64) bool { // sync/comet's key
		for _, a := range list.Assets {
			if a.FileName == name && a.Type == typ && fmt.Sprint(deref(a.Step)) == fmt.Sprint(deref(step)) {
				return true
			}
		}
		return false
	}
	if byEpoch("confusion-matrix.json", 5) || byGroup("Ultralytics") {
		t.Error("the asset list gives epoch or groupingName: a client relying on them would pass here and fail on the real server")
	}
	step := int64(1850)
	if !documented("confusion-matrix.json", "confusion-matrix", &step) || !documented("best.pt", "model-element", nil) {
		t.Errorf("uploads not found by their documented fields: %+v", list)
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
