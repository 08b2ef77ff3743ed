package clearml

import (
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", 0.01: "0.01", 1e-05: "1e-05", 0.0005: "0.0005", 0.0001: "0.0001",
		12.0: "12.0", 1e16: "1e+16", 1.5e15: "1500000000000000.0", -3.25: "-3.25",
		1.4289999999999999e-05: "1.4289999999999999e-05", 0.937: "0.937",
	} {
		if got := ysync.PyFloat(f); got != want {
			t.Errorf("ysync.PyFloat(%v) = %q, want %q", f, got, want)
		}
	}
	if got := pyStrRepr("it's"); got != `"it's"` {
		t.Errorf("pyStrRepr = %s", got)
	}
}

// TestPyValue_ItemTypes: a list whose items each have a type (a Comet
// session's JSON list, format 1.3) is rendered as Python's str() of it
// item by item: the string "2" stays quoted in a mixed list.
func TestPyValue_ItemTypes(t *testing.T) {
	p := schemas.ParamRow{Type: schemas.TypeList, ItemType: schemas.TypeMixed,
		Items:     []string{"1", "2", "2.5", "true", "null", "x", "1e-05"},
		ItemTypes: []string{"int", "str", "float", "bool", "null", "str", "float"}}
	if v, typ := pyValue(p); v != "[1, '2', 2.5, True, None, 'x', 1e-05]" || typ != "list" {
		t.Errorf("pyValue = %s (%s)", v, typ)
	}
}
