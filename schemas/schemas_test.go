package schemas_test

import (
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// TestSchemaOf checks that every row type has a valid Parquet schema:
// parquet.SchemaOf panics on an invalid tag combination.
func TestSchemaOf(t *testing.T) {
	for name, row := range map[string]any{
		schemas.TableRun:         new(schemas.RunRow),
		schemas.TableScalars:     new(schemas.ScalarRow),
		schemas.TableParams:      new(schemas.ParamRow),
		schemas.TableSummary:     new(schemas.SummaryRow),
		schemas.TableImages:      new(schemas.ImageRow),
		schemas.TableAnnotations: new(schemas.AnnotationRow),
		schemas.TableAssets:      new(schemas.AssetRow),
		schemas.TableGaps:        new(schemas.GapRow),
	} {
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
