package mlflowtest

import "testing"

// FuzzParseFilter checks that any filter parses or is refused with 400
// INVALID_PARAMETER_VALUE, never a panic, and that what parses is tag
// comparisons only.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"tags.`yoloarchive.run_id` = '0123'", `tags."a b" != "x" AND tags.c LIKE 'd%'`, "metrics.x > 1", "", "tags.x = 'a' OR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		conds, e := parseFilter(filter)
		if e != nil {
			if statusOf(e.code) != 400 {
				t.Fatalf("%q: refused with %s", filter, e.code)
			}
			return
		}
		for _, c := range conds {
			switch c.op {
			case "=", "!=", "LIKE", "ILIKE":
			default:
				t.Fatalf("%q: operator %q", filter, c.op)
			}
		}
		r := &run{tags: map[string]string{"a": "b"}}
		_ = matches(r, conds)
	})
}

func TestParseFilter_Keys(t *testing.T) {
	for f, key := range map[string]string{
		"tags.`yoloarchive.run_id` = 'x'":  "yoloarchive.run_id",
		`tags."yoloarchive.run_id" = 'x'`:  "yoloarchive.run_id",
		"tags.yoloarchive.run_id = 'x'":    "yoloarchive.run_id",
		"tag.`a b` = 'x'":                  "a b",
		"  TAGS.k   =   \"x\"  ":           "k",
		"tags.`mlflow.runName` ILIKE 'x%'": "mlflow.runName",
	} {
		conds, e := parseFilter(f)
		if e != nil || len(conds) != 1 || conds[0].key != key || conds[0].value[:1] != "x" {
			t.Errorf("%q: %+v %v, want key %q", f, conds, e, key)
		}
	}
}
