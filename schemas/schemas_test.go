package schemas_test

import (
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// TestSchemaOf checks that every row type has a valid Parquet schema:
// parquet.SchemaOf panics on an invalid tag combination.
func TestSchemaOf(t *testing.T) {
	if len(schemas.RowTypes) != len(schemas.Tables) {
		t.Fatalf("%d row types for %d tables", len(schemas.RowTypes), len(schemas.Tables))
	}
	for _, name := range schemas.Tables {
		row, ok := schemas.RowTypes[name]
		if !ok {
			t.Fatalf("table %s has no row type", name)
		}
		t.Run(name, func(t *testing.T) {
			s := parquet.SchemaOf(row)
			if len(s.Fields()) == 0 {
				t.Fatalf("%s: schema has no columns", name)
			}
		})
	}
}

func TestParseFormatVersion(t *testing.T) {
	for _, tc := range []struct {
		in           string
		major, minor int
		ok           bool
	}{
		{"1.0", 1, 0, true},
		{"2.13", 2, 13, true},
		{"1", 0, 0, false},
		{"a.b", 0, 0, false},
		{"-1.0", 0, 0, false},
	} {
		major, minor, err := schemas.ParseFormatVersion(tc.in)
		if (err == nil) != tc.ok || major != tc.major || minor != tc.minor {
			t.Errorf("ParseFormatVersion(%q) = %d, %d, %v", tc.in, major, minor, err)
		}
	}
}
