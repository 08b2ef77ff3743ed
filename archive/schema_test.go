package archive_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// TestWriter_MatchesJSONSchemas validates the header and manifest of a
// written archive against the published JSON Schemas, reading the archive
// with the standard tar reader and a plain zstd decoder.
func TestWriter_MatchesJSONSchemas(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "a.png", []byte("png"))
	p, _, _ := writeTestArchive(t, dir, archive.Options{}, f)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	entries := map[string][]byte{}
	tr := tar.NewReader(dec)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Mode != 0o644 || !h.ModTime.Equal(h.ModTime.UTC()) {
			t.Errorf("%s: tar metadata %+v is not the fixed one", h.Name, h)
		}
		entries[h.Name], _ = io.ReadAll(tr)
	}
	for name, schema := range map[string][]byte{
		schemas.HeaderPath:   schemas.HeaderSchema,
		schemas.ManifestPath: schemas.ManifestSchema,
	} {
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
		c := jsonschema.NewCompiler()
		if err := c.AddResource(name, doc); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(name)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(entries[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s does not match its schema: %v", name, err)
		}
	}
}
