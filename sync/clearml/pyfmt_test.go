package clearml

import (
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
)

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
