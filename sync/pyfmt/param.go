package pyfmt

import (
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// ParamStr is Python's str() of an argument's value, which
// mlflow.log_params logs (Param(key, str(value))): None, True, 0.01, [0],
// ['a', 'b']. The MLflow replay writes it and the capture of an MLflow
// store checks its typed reading against it.
func ParamStr(p schemas.ParamRow) string {
	switch p.Type {
	case schemas.TypeNull:
		return "None"
	case schemas.TypeBool:
		if p.Bool != nil && *p.Bool {
			return "True"
		}
		return "False"
	case schemas.TypeInt:
		if p.Int != nil {
			return strconv.FormatInt(*p.Int, 10)
		}
	case schemas.TypeFloat:
		if p.Float != nil {
			return Float(*p.Float)
		}
	case schemas.TypeString:
		if p.String != nil {
			return *p.String
		}
	case schemas.TypeList, schemas.TypeMixed:
		items := make([]string, len(p.Items))
		for i, it := range p.Items {
			typ := p.ItemType
			if len(p.ItemTypes) == len(p.Items) {
				typ = p.ItemTypes[i]
			}
			items[i] = pyRepr(it, typ)
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return p.Text
}

// pyRepr is Python's repr() of a list item given its YAML source text.
func pyRepr(text, typ string) string {
	switch typ {
	case schemas.TypeInt:
		if n, err := strconv.ParseInt(text, 0, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
		return text
	case schemas.TypeFloat:
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return Float(f)
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
	return StrRepr(text)
}
