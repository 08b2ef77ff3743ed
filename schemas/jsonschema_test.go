package schemas_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/yoloarchive/yoloarchive/schemas"
)

func compile(t *testing.T, name string, data []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, v any) error {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

// jsonFields returns the JSON names of a struct type's fields.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// schemaProps returns the property names of a schema object (or of its
// items' object, for path "entries").
func schemaProps(t *testing.T, data []byte, path ...string) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		m = m["properties"].(map[string]any)[p].(map[string]any)["items"].(map[string]any)
	}
	var out []string
	for k := range m["properties"].(map[string]any) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestJSONSchemas checks that the Go types and the JSON Schemas agree: the
// same fields, and valid values pass while broken ones fail.
func TestJSONSchemas(t *testing.T) {
	if got, want := jsonFields(reflect.TypeOf(schemas.Header{})), schemaProps(t, schemas.HeaderSchema); !reflect.DeepEqual(got, want) {
		t.Errorf("Header fields %v, schema properties %v", got, want)
	}
	if got, want := jsonFields(reflect.TypeOf(schemas.Manifest{})), schemaProps(t, schemas.ManifestSchema); !reflect.DeepEqual(got, want) {
		t.Errorf("Manifest fields %v, schema properties %v", got, want)
	}
	if got, want := jsonFields(reflect.TypeOf(schemas.ManifestEntry{})), schemaProps(t, schemas.ManifestSchema, "entries"); !reflect.DeepEqual(got, want) {
		t.Errorf("ManifestEntry fields %v, schema properties %v", got, want)
	}

	hs := compile(t, "header.schema.json", schemas.HeaderSchema)
	ms := compile(t, "manifest.schema.json", schemas.ManifestSchema)
	h := schemas.Header{Format: schemas.FormatName, FormatVersion: schemas.FormatVersion,
		RunID: strings.Repeat("ab", 16), SourceKind: schemas.SourceUltralyticsTrain, Writer: "yoloarchive test", Tables: schemas.Tables}
	if err := validate(t, hs, h); err != nil {
		t.Errorf("valid header: %v", err)
	}
	bad := h
	bad.RunID = "xyz"
	if err := validate(t, hs, bad); err == nil {
		t.Error("header with a bad run id passed the schema")
	}
	rows := int64(3)
	m := schemas.Manifest{Format: schemas.FormatName, FormatVersion: schemas.FormatVersion, RunID: h.RunID,
		Entries: []schemas.ManifestEntry{
			{Path: schemas.HeaderPath, Size: 10, SHA256: strings.Repeat("0", 64)},
			{Path: schemas.TablePath(schemas.TableRun), Size: 10, SHA256: strings.Repeat("1", 64), Rows: &rows},
			{Path: "blobs/" + strings.Repeat("a", 64), Size: 0, SHA256: strings.Repeat("a", 64)},
		}}
	if err := validate(t, ms, m); err != nil {
		t.Errorf("valid manifest: %v", err)
	}
	m.Entries[2].Path = "../etc/passwd"
	if err := validate(t, ms, m); err == nil {
		t.Error("manifest with a bad path passed the schema")
	}
}
