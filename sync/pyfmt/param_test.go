package pyfmt

import (
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
)

func TestParamStr(t *testing.T) {
	b, i, f, s := true, int64(-1), 1e-05, "it's"
	for _, tc := range []struct {
		p    schemas.ParamRow
		want string
	}{
		{schemas.ParamRow{Type: schemas.TypeNull}, "None"},
		{schemas.ParamRow{Type: schemas.TypeBool, Bool: &b}, "True"},
		{schemas.ParamRow{Type: schemas.TypeInt, Int: &i}, "-1"},
		{schemas.ParamRow{Type: schemas.TypeFloat, Float: &f}, "1e-05"},
		{schemas.ParamRow{Type: schemas.TypeString, String: &s}, "it's"},
		{schemas.ParamRow{Type: schemas.TypeList, ItemType: schemas.TypeInt, Items: []string{"0"}}, "[0]"},
		{schemas.ParamRow{Type: schemas.TypeList, ItemType: schemas.TypeFloat, Items: []string{"0.5", "1"}}, "[0.5, 1.0]"},
		{schemas.ParamRow{Type: schemas.TypeList, ItemType: schemas.TypeString, Items: []string{"a", "it's"}}, `['a', "it's"]`},
		{schemas.ParamRow{Type: schemas.TypeMixed, Items: []string{"1", "x", "null", "true"},
			ItemTypes: []string{schemas.TypeInt, schemas.TypeString, schemas.TypeNull, schemas.TypeBool}}, "[1, 'x', None, True]"},
		{schemas.ParamRow{Type: schemas.TypeList, ItemType: schemas.TypeString}, "[]"},
	} {
		if got := ParamStr(tc.p); got != tc.want {
			t.Errorf("ParamStr(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
