package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is this repository's module path.
const module = "github.com/yoloarchive/yoloarchive"

// destinations are the trackers registered with sync.Register, each in
// its own sync/<tracker> tree.
var destinations = []string{"clearml", "comet", "mlflow"}

// destinationImports are the imports of a destination's packages from
// outside its tree, besides the registry line in cmd/yoloarchive/sync.go
// and the imports of a source's package (sources): package → the
// destination packages it may import, and why.
var destinationImports = map[string]map[string]string{
	// The fake servers of the benchmarks (scripts/bench.sh).
	"scripts/fakeservers": {"sync/clearml/clearmltest": "fake server", "sync/comet/comettest": "fake server"},
}

// TestDestinations_OnePackageEach: no package outside sync/<tracker>
// imports a destination's packages, except the registry imports of
// cmd/yoloarchive/sync.go and the explicit destinationImports; so adding
// or removing a destination is its own tree, one registry line, and its
// docs (docs/adding-a-destination.md). Tests are not counted: a CLI test
// may drive a destination's fake.
func TestDestinations_OnePackageEach(t *testing.T) {
	pkgs := goList(t)
	// tracker returns the destination whose tree holds the package rel.
	tracker := func(rel string) string {
		for _, d := range destinations {
			if rel == "sync/"+d || strings.HasPrefix(rel, "sync/"+d+"/") {
				return d
			}
		}
		return ""
	}
	registered := map[string]bool{}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			irel, ok := strings.CutPrefix(imp, module+"/")
			d := tracker(irel)
			if !ok || d == "" || tracker(rel) == d {
				continue
			}
			if _, ok := destinationImports[rel][irel]; ok || slices.Contains(sources[rel].imports, irel) {
				continue
			}
			if rel == "cmd/yoloarchive" && irel == "sync/"+d {
				registered[d] = true
				continue // checked file by file below
			}
			t.Errorf("%s imports %s: only sync/%s/..., the registry line in cmd/yoloarchive/sync.go and destinationImports may", rel, irel, d)
		}
		if rel != "cmd/yoloarchive" {
			continue
		}
		// The registry imports are in sync.go alone.
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range af.Imports {
				path, _ := strconv.Unquote(is.Path.Value)
				if d := tracker(strings.TrimPrefix(path, module+"/")); d != "" && f != "sync.go" {
					t.Errorf("cmd/yoloarchive/%s imports %s: a destination is imported by its registry line in sync.go only", f, path)
				}
			}
		}
	}
	for _, d := range destinations {
		if !registered[d] {
			t.Errorf("cmd/yoloarchive does not import sync/%s: is it registered?", d)
		}
	}
	// The allowlists hold only imports that exist.
	allowed := map[string][]string{}
	for rel, imps := range destinationImports {
		for irel := range imps {
			allowed[rel] = append(allowed[rel], irel)
		}
	}
	for rel, s := range sources {
		allowed[rel] = append(allowed[rel], s.imports...)
	}
	for rel, imps := range allowed {
		for _, irel := range imps {
			found := false
			for _, p := range pkgs {
				if p.ImportPath == module+"/"+rel {
					for _, imp := range p.Imports {
						found = found || imp == module+"/"+irel
					}
				}
			}
			if !found {
				t.Errorf("destinationImports or sources list %s → %s, which %s no longer imports: remove it", rel, irel, rel)
			}
		}
	}
}

// listedPackage is what `go list -json` says of a package of the module.
type listedPackage struct {
	ImportPath, Dir string
	GoFiles         []string
	Imports         []string
}

// goList lists the module's packages (their imports leave out tests').
func goList(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(out)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}
