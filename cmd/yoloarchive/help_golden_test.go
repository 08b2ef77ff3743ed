package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateHelp = flag.Bool("update", false, "update golden files in testdata/")

// TestCLI_HelpGolden: the help of every command, and kong's answers to a
// bad --to and a missing argument, are byte for byte those of
// testdata/help/. A change to how the command model is built (which flags,
// defaults, help texts, enums) shows up here; regenerate with -update
// only when the change is meant.
func TestCLI_HelpGolden(t *testing.T) {
	t.Setenv("COLUMNS", "80") // kong wraps the help to COLUMNS
	cases := [][]string{{"--help"}}
	for _, cmd := range []string{"capture", "inspect", "compare", "verify", "sync", "export", "restore", "status", "report"} {
		cases = append(cases, []string{cmd, "--help"})
	}
	cases = append(cases,
		[]string{"sync", "--to", "nowhere", "a.tar.zst"}, // the enum of --to, in the error
		[]string{"verify"}, // a missing argument: the usage
	)
	for _, args := range cases {
		name := strings.ReplaceAll(strings.Join(args, "_"), "-", "")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, args...)
			var got bytes.Buffer
			got.WriteString("exit " + strconv.Itoa(code) + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr)
			path := filepath.Join("testdata", "help", name+".golden")
			if *updateHelp {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from %s:\n%s", strings.Join(args, " "), path, got.String())
			}
		})
	}
}
