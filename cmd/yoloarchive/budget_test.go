package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// withRows rewrites the archive at src into dst with the manifest
// claiming rows for table (checksums recomputed: only the count lies).
func withRows(t *testing.T, src, dst, table string, rows int64) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tr := tar.NewReader(dec)
	var out bytes.Buffer
	enc, _ := zstd.NewWriter(&out)
	tw := tar.NewWriter(enc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if h.Name == schemas.ManifestPath {
			var m schemas.Manifest
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for i := range m.Entries {
				if m.Entries[i].Path == "tables/"+table+".parquet" {
					m.Entries[i].Rows = &rows
				}
			}
			b, _ = json.Marshal(m)
		}
		tw.WriteHeader(&tar.Header{Name: h.Name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), Format: tar.FormatPAX})
		tw.Write(b)
	}
	tw.Close()
	enc.Close()
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCLI_LyingRowCounts: inspect, export and sync used to print or
// replay an archive whose manifest claims 10¹² or −5 rows; every command
// now refuses it with one line naming the archive.
func TestCLI_LyingRowCounts(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "detect.tar.zst")
	if code, _, stderr := runCLI(t, "capture", filepath.Join(fixtures, "detect"), "-o", good); code != 0 {
		t.Fatalf("capture: %s", stderr)
	}
	for _, rows := range []int64{1e12, -5, 3} {
		bad := filepath.Join(dir, "bad.tar.zst")
		withRows(t, good, bad, schemas.TableScalars, rows)
		for _, args := range [][]string{
			{"inspect", bad},
			{"export", bad, "--format", "csv", "-o", filepath.Join(dir, "csv")},
			{"export", bad, "--format", "arrow", "-o", filepath.Join(dir, "arrow")},
			{"sync", bad, "--to", "comet-offline", "--out", filepath.Join(dir, "comet")},
			{"sync", bad, "--to", "clearml-offline", "--out", filepath.Join(dir, "clearml")},
			{"verify", bad},
		} {
			code, stdout, stderr := runCLI(t, args...)
			if code == exitOK || !strings.Contains(stdout+stderr, "bad.tar.zst") || !strings.Contains(stdout+stderr, "scalars") {
				t.Errorf("rows %d: %s: exit %d, stdout %q, stderr %q", rows, args[0], code, stdout, stderr)
			}
		}
	}
	if code, _, stderr := runCLI(t, "inspect", good); code != exitOK {
		t.Fatalf("inspect of the good archive: %s", stderr)
	}
}

// TestCLI_Budget: --budget (or YOLOARCHIVE_BUDGET) sets the budget of
// every command; without it, commands read with the default budget.
func TestCLI_Budget(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "detect.tar.zst")
	if code, _, stderr := runCLI(t, "capture", filepath.Join(fixtures, "detect"), "-o", good); code != 0 {
		t.Fatalf("capture: %s", stderr)
	}
	for _, args := range [][]string{
		{"inspect", good, "--budget", "rows=3"},
		{"verify", good, "--budget", "rows=3"},
		{"export", good, "--budget", "rows=3", "-o", filepath.Join(dir, "out")},
		{"sync", good, "--budget", "rows=3", "--to", "comet-offline", "--out", filepath.Join(dir, "comet")},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code == exitOK || !strings.Contains(stdout+stderr, "--budget rows=") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", args[0], code, stdout, stderr)
		}
	}
	t.Setenv("YOLOARCHIVE_BUDGET", "rows=3")
	if code, _, _ := runCLI(t, "inspect", good); code == exitOK {
		t.Errorf("YOLOARCHIVE_BUDGET=rows=3 ignored")
	}
	t.Setenv("YOLOARCHIVE_BUDGET", "")
	if code, _, stderr := runCLI(t, "inspect", good, "--budget", "rows=x"); code != exitUsage {
		t.Errorf("bad --budget: exit %d, stderr %q", code, stderr)
	}
	// Without --budget, a command reads with the default budget.
	g := Globals{ProgressInterval: 1}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if g.budget.MaxRows != archive.DefaultMaxRows || g.budget.MaxTableBytes != archive.DefaultMaxTableBytes ||
		g.budget.MaxValueBytes != archive.DefaultMaxValueBytes || g.budget.MaxPixels != archive.DefaultMaxPixels {
		t.Errorf("default budget %v", g.budget)
	}
}

// TestCLI_ZipBudget: the zip extraction limits of session capture are keys
// of the one budget, set by --budget or YOLOARCHIVE_BUDGET; going over one
// names it and how to raise it.
func TestCLI_ZipBudget(t *testing.T) {
	zip := filepath.Join(fixtures, "detect-clearml", "clearml_offline_session", "offline-65072dc9b8014849a4dc396a0eb301ec.zip")
	for _, tc := range []struct {
		name, budget, env, want string
	}{
		{"Default", "", "", ""},
		{"Entries", "zip-entries=5", "", "--budget zip-entries=20"},
		{"Total", "zip-total=64KiB", "", "--budget zip-total=1MiB"},
		{"FromEnv", "", "zip-entries=10", "zip-entries=10 (raise it with --budget zip-entries=20)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("YOLOARCHIVE_BUDGET", tc.env)
			args := []string{"capture", zip, "-o", t.TempDir()}
			if tc.budget != "" {
				args = append(args, "--budget", tc.budget)
			}
			code, stdout, stderr := runCLI(t, args...)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("exit %d: %s%s", code, stdout, stderr)
				}
				return
			}
			if code == 0 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "over budget") {
				t.Errorf("exit %d, stderr %q: want a failure saying %q", code, stderr, tc.want)
			}
		})
	}
	// The keys are listed with their defaults.
	if s := (archive.Limits{}).String(); !strings.Contains(s, "zip-entries=1048576,zip-total=256GiB,zip-ratio=1000,zip-ratio-all=100") {
		t.Errorf("budget %s lacks the zip keys and defaults", s)
	}
}
