package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestCLI_HelpShowsDefaults: every flag with a default shows it in its
// command's --help.
func TestCLI_HelpShowsDefaults(t *testing.T) {
	parser, err := kong.New(&CLI{}, cliVars("test")...)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, cmd := range parser.Model.Children {
		_, help, _ := runCLI(t, cmd.Name, "--help")
		help = strings.Join(strings.Fields(help), " ") // unwrapped
		for _, group := range cmd.AllFlags(true) {
			for _, f := range group {
				if f.Hidden || !f.HasDefault || f.Default == "" || f.IsBool() {
					continue
				}
				checked++
				if !strings.Contains(help, "(default: "+f.Default+")") && !strings.Contains(oneLine(f.Help), "(default") {
					t.Errorf("%s --help: --%s does not show its default %q", cmd.Name, f.Name, f.Default)
				}
			}
		}
	}
	if checked < 8 {
		t.Errorf("only %d flags with defaults checked", checked)
	}
}

func TestVersionOf(t *testing.T) {
	rev := "bcf385c5926aae450ad16eaac292f5504ae48e7f"
	settings := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name, ldflags string
		bi            *debug.BuildInfo
		want          string
	}{
		{"linker flags", "v1.4.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-x"}}, "v1.4.0"},
		{"go build in a modified checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261204124331-bcf385c5926a+dirty"}, Settings: settings("true")},
			"v0.0.0-20261204124331-bcf385c5926a (bcf385c, modified)"},
		{"go build of a tag", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: settings("false")}, "v1.2.0 (bcf385c)"},
		{"no module version", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("false")}, "dev (bcf385c)"},
		{"go install from the proxy", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0"},
		{"nothing known", "", nil, "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionOf(tc.ldflags, tc.bi); got != tc.want {
				t.Errorf("versionOf = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCLI_VersionOfPlainBuild: a plain `go build` says the module version
// and the VCS revision the toolchain recorded in the binary. (In a fresh
// clone it records both; in a git worktree, none: golang/go#58218.)
func TestCLI_VersionOfPlainBuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "yoloarchive")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto") // not a -buildvcs=false of the environment
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// What the toolchain recorded, as go version -m shows it.
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod" && f[2] != "(devel)":
			want = append(want, strings.TrimSuffix(f[2], "+dirty"))
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			want = append(want, "("+strings.TrimPrefix(f[1], "vcs.revision=")[:7])
		case len(f) == 2 && f[0] == "build" && f[1] == "vcs.modified=true":
			want = append(want, ", modified)")
		}
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(string(out))
	if len(want) == 0 {
		want = []string{"dev"}
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("--version = %q, want %q in it (recorded: %s)", got, w, info)
		}
	}
}
