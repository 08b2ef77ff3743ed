package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestGlobalFlags_AsKongNamesThem: the flags scanArgs skips before a
// command are the whole CLI's top-level flags as kong builds them (long
// and short names, whether each takes a value), and every command and
// alias kong knows is found by commandField.
func TestGlobalFlags_AsKongNamesThem(t *testing.T) {
	parser, err := kong.New(&CLI{}, cliVars("test")...)
	if err != nil {
		t.Fatal(err)
	}
	got := globalFlags()
	var kongLong []string
	for _, f := range parser.Model.Flags {
		kongLong = append(kongLong, f.Name)
		g, ok := got.long[f.Name]
		if !ok {
			t.Errorf("--%s: kong has it, globalFlags does not", f.Name)
			continue
		}
		if g.value != !f.IsBool() {
			t.Errorf("--%s: takes a value %v, kong says %v", f.Name, g.value, !f.IsBool())
		}
		if f.Short != 0 {
			if s, ok := got.short[f.Short]; !ok || s != g {
				t.Errorf("-%c: globalFlags has %+v (%v), want %+v", f.Short, s, ok, g)
			}
		}
	}
	for name := range got.long {
		if !slices.Contains(kongLong, name) {
			t.Errorf("--%s: globalFlags has it, kong does not", name)
		}
	}
	// The small grammars embed Globals as CLI does: first, with its tag.
	cli, only := reflect.TypeFor[CLI]().Field(0), reflect.TypeFor[globalsOnly]().Field(0)
	if !cli.Anonymous || cli.Type != reflect.TypeFor[Globals]() || cli.Tag != only.Tag {
		t.Errorf("CLI's first field is %s %s `%s`; the small grammars embed Globals `%s` first", cli.Name, cli.Type, cli.Tag, only.Tag)
	}
	if len(got.short) != 3 { // -h -q -v
		t.Errorf("short flags %v, want h, q and v", got.short)
	}
	for _, cmd := range parser.Model.Children {
		for _, word := range append([]string{cmd.Name}, cmd.Aliases...) {
			f, ok := commandField(word)
			if !ok || !strings.EqualFold(f.Name, cmd.Name) {
				t.Errorf("commandField(%q) = %s, %v; want the field of %s", word, f.Name, ok, cmd.Name)
			}
		}
	}
}

// TestScanArgs: which command lines get a small grammar, and which are
// left to the whole CLI.
func TestScanArgs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		cmd     string // the CLI field; "" for none
		version bool
		ok      bool
	}{
		{"command", []string{"verify", "a.tar.zst"}, "Verify", false, true},
		{"alias", []string{"compare", "a", "b"}, "Inspect", false, true},
		{"global flags before", []string{"-q", "--progress-interval", "5s", "--budget=rows=1", "sync", "x"}, "Sync", false, true},
		{"a flag's value that is a command's name", []string{"--budget", "capture", "verify"}, "Verify", false, true},
		{"short flags together", []string{"-qv", "status"}, "Status", false, true},
		{"version alone", []string{"--version"}, "", true, true},
		{"version after a global flag", []string{"-q", "--version"}, "", true, true},
		{"version before a command", []string{"--version", "capture"}, "Capture", true, true},
		{"no arguments", nil, "", false, true},
		{"a typo", []string{"captur"}, "", false, false},
		{"an unknown flag", []string{"--bogus", "verify"}, "", false, false},
		{"help at the top", []string{"--help"}, "", false, false},
		{"help before the command", []string{"-h", "verify"}, "", false, false},
		{"double dash", []string{"--", "verify"}, "", false, false},
		{"the value of the last flag missing", []string{"--budget"}, "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, version, ok := scanArgs(tc.args)
			name := ""
			if cmd != nil {
				name = cmd.Name
			}
			if name != tc.cmd || version != tc.version || ok != tc.ok {
				t.Errorf("scanArgs(%q) = %q, %v, %v; want %q, %v, %v", tc.args, name, version, ok, tc.cmd, tc.version, tc.ok)
			}
		})
	}
}

// TestCLI_NarrowGrammar_SameAnswers: with the small grammars, kong's
// answers (help, version, errors, exit codes) are byte for byte those of
// the whole CLI, for the command lines that get one and for those that
// fall back.
func TestCLI_NarrowGrammar_SameAnswers(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	for _, args := range [][]string{
		{"--version"},
		{"-q", "--version"},
		{"--version", "capture"},
		{"capture", "--version"},
		{"verify", "--version", "a.tar.zst"},
		{"--progress-interval", "5s", "--version"},
		{"--progress-interval=bad", "--version"},
		{"--version", "--bogus"},
		{"--budget", "rows=1", "verify", "--help"},
		{"--help", "verify"},
		{"compare", "--help"},
		{"-qv", "verify", "missing.tar.zst"},
		{"captur"},
		{"verfy", "a.tar.zst"},
		{"nonsense"},
		{},
		{"-q"},
		{"--help"},
		{"verify"},
		{"sync", "--to", "nowhere", "a.tar.zst"},
		{"sync", "--check", "--dry-run", "--to", "comet"},
		{"capture", "--bogus", "x"},
		{"capture", "--verbos", "x"},
		{"--", "verify", "a.tar.zst"},
		{"--progress-interval", "0s", "verify", "a.tar.zst"},
		{"--budget", "nonsense", "verify", "a.tar.zst"},
		// Commands that run: the global flags reach them (a budget too
		// small for the archive fails it).
		{"verify", "../../testdata/archives/v1.0-detect.tar.zst"},
		{"--budget", "rows=1", "verify", "../../testdata/archives/v1.0-detect.tar.zst"},
		{"-q", "--budget=entry=1KiB", "inspect", "../../testdata/archives/v1.0-detect.tar.zst"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, args...)
			narrow = false
			defer func() { narrow = true }()
			wantCode, wantStdout, wantStderr := runCLI(t, args...)
			if code != wantCode || stdout != wantStdout || stderr != wantStderr {
				t.Errorf("%q: got exit %d\n%s%s\nwant exit %d\n%s%s", args, code, stdout, stderr, wantCode, wantStdout, wantStderr)
			}
		})
	}
}

// TestCLI_NarrowGrammar_Fallbacks: a typo'd command still gets kong's
// suggestion, and --version is answered wherever it was.
func TestCLI_NarrowGrammar_Fallbacks(t *testing.T) {
	code, _, stderr := runCLI(t, "captur", "x")
	if code != exitUsage || !strings.Contains(stderr, `did you mean "capture"`) {
		t.Errorf("captur: exit %d, stderr %q; want %d and kong's suggestion", code, stderr, exitUsage)
	}
	for _, args := range [][]string{{"--version"}, {"-q", "--version"}, {"--version", "verify"}, {"sync", "--version"}, {"capture", "x", "--version"}} {
		code, stdout, _ := runCLI(t, args...)
		if code != 0 || strings.TrimSpace(stdout) == "" {
			t.Errorf("%q: exit %d, stdout %q; want the version", args, code, stdout)
		}
	}
}
