package main

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sources are the session readers registered with convert.RegisterReader,
// each a package of its own, one line each: the file of cmd/yoloarchive
// that holds its registry line, and the destination packages it may
// import (a tracker's typed format, used by both sides).
var sources = map[string]source{
	"convert/clearmlsession": {registry: "capture.go"},
	"convert/cometsession":   {registry: "capture.go"},
	"convert/mlflowrun":      {registry: "capture.go", imports: []string{"sync/mlflow/filestore"}},
}

// source is a session reader's package: see sources.
type source struct {
	registry string
	imports  []string
}

// TestSources_OnePackageEach: no package imports a source's package but
// cmd/yoloarchive, by one registry line in the file sources names; so
// adding or removing a source is its own package, one line, and its docs
// (docs/adding-a-destination.md). Tests are not counted: a test may
// capture a source's fixtures.
func TestSources_OnePackageEach(t *testing.T) {
	pkgs := goList(t)
	registered := map[string]bool{}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			irel, ok := strings.CutPrefix(imp, module+"/")
			if _, src := sources[irel]; !ok || !src {
				continue
			}
			if rel != "cmd/yoloarchive" {
				t.Errorf("%s imports %s: only its registry line in cmd/yoloarchive/%s may", rel, irel, sources[irel].registry)
			}
		}
		if rel != "cmd/yoloarchive" {
			continue
		}
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range af.Imports {
				path, _ := strconv.Unquote(is.Path.Value)
				irel := strings.TrimPrefix(path, module+"/")
				want, src := sources[irel]
				if !src {
					continue
				}
				if f != want.registry {
					t.Errorf("cmd/yoloarchive/%s imports %s: a source is imported by its registry line in %s only", f, path, want.registry)
				} else if is.Name == nil || is.Name.Name != "_" {
					t.Errorf("cmd/yoloarchive/%s imports %s by name: a source registers itself, imported for its side effect (_)", f, path)
				} else {
					registered[irel] = true
				}
			}
		}
	}
	for s := range sources {
		if !registered[s] {
			t.Errorf("cmd/yoloarchive does not import %s: is it registered?", s)
		}
	}
}
