package clearml

import (
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/sync/pyfmt"
)

// pyValue renders a parameter as the ClearML SDK stores a connected dict
// value: Python's str() of it, and the Python type name ("" for None,
// which the SDK stores without a type).
func pyValue(p schemas.ParamRow) (value, typ string) {
	switch p.Type {
	case schemas.TypeNull:
		return "", ""
	case schemas.TypeBool:
		if p.Bool != nil && *p.Bool {
			return "True", "bool"
		}
		return "False", "bool"
	case schemas.TypeInt:
		if p.Int != nil {
			return strconv.FormatInt(*p.Int, 10), "int"
		}
	case schemas.TypeFloat:
		if p.Float != nil {
			return pyfmt.Float(*p.Float), "float"
		}
	case schemas.TypeString:
		if p.String != nil {
			return *p.String, "str"
		}
	case schemas.TypeList, schemas.TypeMixed:
		items := make([]string, len(p.Items))
		for i, it := range p.Items {
			typ := p.ItemType
			if len(p.ItemTypes) == len(p.Items) {
				typ = p.ItemTypes[i] // each item's own type (format 1.3)
			}
			items[i] = pyItem(it, typ)
		}
		return "[" + strings.Join(items, ", ") + "]", "list"
	}
	return p.Text, p.Type
}

// pyItem renders one list item from its YAML source text as Python's
// repr() inside a list.
func pyItem(text, itemType string) string {
	switch itemType {
	case schemas.TypeInt:
		return text
	case schemas.TypeFloat:
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return pyfmt.Float(f)
		}
		return text
	case schemas.TypeBool:
		if b, err := strconv.ParseBool(text); err == nil && b {
			return "True"
		}
		return "False"
	case schemas.TypeNull:
		return "None"
	}
	if text == "null" || text == "~" {
		return "None"
	}
	if _, err := strconv.ParseInt(text, 10, 64); err == nil && itemType == schemas.TypeMixed {
		return text
	}
	return pyfmt.StrRepr(text)
}
