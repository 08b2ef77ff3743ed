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
// application are interpolated into every value's tags (71 values): the
// registries' help texts belong to the flags that show them (cliVars).
const parserAllocBudget = 560 << 10

// TestParserIsCheap: building the command model stays within its budget.
func TestParserIsCheap(t *testing.T) {
	build := func() {
		if _, err := kong.New(&CLI{}, append(cliVars("test"), kong.ValueFormatter(helpValue))...); err != nil {
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
	if perRun > parserAllocBudget {
		t.Errorf("building the command model allocates %d KiB (budget %d KiB): give variables only to the values whose tags use them", perRun>>10, parserAllocBudget>>10)
	}
}
