package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// initAllocBudget is the most allocations one of our packages may make at
// init. Every command pays for them, --version included: regexps,
// templates and tables are built at first use instead (sync.OnceValue).
const initAllocBudget = 30

// TestInitIsCheap runs this test binary with GODEBUG=inittrace=1 and checks
// that none of our packages does real work at init.
func TestInitIsCheap(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, stderr.String())
	}
	seen := 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		// init github.com/x/y @1.2 ms, 0.01 ms clock, 688 bytes, 14 allocs
		f := strings.Fields(sc.Text())
		if len(f) < 11 || f[0] != "init" || !strings.HasPrefix(f[1], "github.com/yoloarchive/yoloarchive/") {
			continue
		}
		if strings.HasSuffix(f[1], "test") {
			continue // a fake for tests, not linked into the program
		}
		seen++
		allocs, err := strconv.Atoi(f[9])
		if err != nil {
			t.Fatalf("cannot read inittrace line %q", sc.Text())
		}
		if allocs > initAllocBudget {
			t.Errorf("%s makes %d allocations at init (budget %d): build its values at first use", f[1], allocs, initAllocBudget)
		}
	}
	if seen == 0 {
		t.Fatalf("no inittrace line for our packages in:\n%s", stderr.String())
	}
}

// parserAllocBudget bounds the bytes kong allocates to build the command
// model, paid by every command at start. Variables given to the whole
// application are interpolated into every value's tags (cliVars), and
// a command line that names a command gets the model of that command and
// the global flags alone (narrowGrammar).
const parserAllocBudget = 560 << 10

// commandAllocBudget bounds the bytes kong allocates to build the model
// of one command (sync, the biggest) and the global flags.
const commandAllocBudget = 250 << 10

// versionAllocBudget bounds the bytes kong allocates to build the model
// that answers --version: the global flags alone.
const versionAllocBudget = 64 << 10

// TestParserIsCheap: building the command model stays within its budget,
// for the whole CLI and for the small grammars.
func TestParserIsCheap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		budget uint64
	}{
		{"whole CLI", nil, parserAllocBudget},
		{"sync", []string{"sync", "a.tar.zst"}, commandAllocBudget},
		{"--version", []string{"--version"}, versionAllocBudget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func() {
				g, ok := narrowGrammar(tc.args)
				if !ok {
					g = fullGrammar()
				}
				if _, err := kong.New(g.target, append(cliVars("test"), kong.ValueFormatter(helpValue))...); err != nil {
					t.Fatal(err)
				}
			}
			build() // kong's first use of its types
			var before, after runtime.MemStats
			const runs = 5
			runtime.ReadMemStats(&before)
			for range runs {
				build()
			}
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / runs
			t.Logf("kong.New allocates %d bytes", perRun)
			if perRun > tc.budget {
				t.Errorf("building the command model allocates %d KiB (budget %d KiB): give variables only to the values whose tags use them, and build only the command the command line names", perRun>>10, tc.budget>>10)
			}
		})
	}
}

// BenchmarkParser builds the command model as a start does: the whole
// CLI, one command (sync, the biggest) with the global flags, and the
// global flags alone (--version).
func BenchmarkParser(b *testing.B) {
	for _, bc := range []struct {
		name string
		args []string
	}{{"whole CLI", nil}, {"sync", []string{"sync", "a.tar.zst"}}, {"--version", []string{"--version"}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, ok := narrowGrammar(bc.args)
				if !ok {
					g = fullGrammar()
				}
				if _, err := kong.New(g.target, append(cliVars("test"), kong.ValueFormatter(helpValue))...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPrefault_InitialisesEarly: the package that maps in the program's
// code and first heap initialises before the libraries whose init
// touches most pages (internal/prefault imports nothing that sorts after
// them).
func TestPrefault_InitialisesEarly(t *testing.T) {
	cmd := exec.Command(buildHooked(t), "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	const self = "github.com/yoloarchive/yoloarchive/cmd/yoloarchive/internal/prefault"
	later := []string{"google.golang.org/protobuf/", "github.com/parquet-go/", "github.com/apache/arrow/go/v17/arrow/array",
		"go.yaml.in/", "net/http", "github.com/alecthomas/kong", "github.com/yoloarchive/yoloarchive/archive"}
	seen := false
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "init" {
			continue
		}
		if f[1] == self {
			seen = true
			break
		}
		for _, l := range later {
			if strings.HasPrefix(f[1], l) {
				t.Errorf("%s initialises before %s", f[1], self)
			}
		}
	}
	if !seen {
		t.Fatalf("no inittrace line for %s in:\n%s", self, out)
	}
}
