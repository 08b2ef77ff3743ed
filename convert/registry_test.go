package convert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// testReaderKind is a session kind registered by this test only: a
// folder holding test-session.txt (a run) or test-sessions.txt (a
// store of runs).
const testReaderKind = "test-session"

func init() {
	RegisterReader(Reader{
		Kind:      testReaderKind,
		Name:      "a test session",
		IsRun:     func(dir string) bool { return fileExists(filepath.Join(dir, "test-session.txt")) },
		Store:     func(dir string) bool { return fileExists(filepath.Join(dir, "test-sessions.txt")) },
		StoreName: "a store of test sessions",
		Read: func(ctx context.Context, s *Session) error {
			r := s.Run()
			if err := s.AddSessionFile(ctx, "test-session.txt"); err != nil {
				return err
			}
			for _, name := range []string{"results.csv", "results.png"} {
				if err := s.AddArtifact(ctx, filepath.Join("files", name), name); err != nil {
					return err
				}
			}
			args := []schemas.ParamRow{PyParam("args", "task", 0, "detect", "str"), PyParam("args", "epochs", 1, "3", "int")}
			r.Params = append(r.Params, args...)
			s.DescribeArgs(args)
			s.Gap("model", "no weights", "")
			s.Finish("", "store/run-1")
			return nil
		},
	})
}

// TestRegisterReader: a registered reader's runs are detected, its
// stores named in the error, and read through the Session's API into a
// run: a session file, an asset, a damaged image as a gap, the
// arguments describing the run, and a run id from the session key.
func TestRegisterReader(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(run, "files"), 0o755))
	must(os.WriteFile(filepath.Join(run, "test-session.txt"), []byte("session"), 0o644))
	must(os.WriteFile(filepath.Join(run, "files", "results.csv"), []byte("epoch\n1\n"), 0o644))
	must(os.WriteFile(filepath.Join(run, "files", "results.png"), []byte("not a png"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "test-sessions.txt"), nil, 0o644))

	if k, err := Detect(run); err != nil || k != testReaderKind {
		t.Fatalf("Detect(run) = %q, %v; want %s", k, err, testReaderKind)
	}
	_, err := Detect(dir)
	if !errors.Is(err, ErrNotRun) || !strings.Contains(err.Error(), "a store of test sessions: capture its runs with --recursive") {
		t.Fatalf("Detect(store) = %v; want ErrNotRun naming the store", err)
	}
	if d := MergedInto(run); d != "" {
		t.Errorf("MergedInto = %q; the reader has no LoggedFrom", d)
	}

	r, err := Read(context.Background(), run, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Info.SourceKind != testReaderKind || r.Info.Task != "detect" || r.Info.EpochsPlanned == nil || *r.Info.EpochsPlanned != 3 {
		t.Errorf("info = %+v", r.Info)
	}
	if want := sessionID(testReaderKind, "", "store/run-1"); r.Info.RunID != want {
		t.Errorf("run id %s, want %s", r.Info.RunID, want)
	}
	var assets []string
	for _, a := range r.Assets {
		assets = append(assets, a.FileName+" "+a.Role)
	}
	if got := strings.Join(assets, ", "); got != "test-session.txt "+schemas.RoleSessionFile+", results.csv "+classifyFile("results.csv").Role {
		t.Errorf("assets: %s", got)
	}
	var gaps []string
	for _, g := range r.Gaps {
		gaps = append(gaps, g.Item)
	}
	if got := strings.Join(gaps, ","); got != "session_image,ultralytics_version,model" {
		t.Errorf("gaps: %s; want session_image (the damaged png), ultralytics_version (args without a version), model", got)
	}
	if len(r.Images) != 0 {
		t.Errorf("images: %+v", r.Images)
	}
}

// TestRegisterReader_Refuses: a reader with a missing function, or a
// kind registered twice, is a programming error found at start.
func TestRegisterReader_Refuses(t *testing.T) {
	for name, rd := range map[string]Reader{
		"no IsRun": {Kind: "other", Read: func(context.Context, *Session) error { return nil }},
		"twice":    {Kind: testReaderKind, IsRun: func(string) bool { return false }, Read: func(context.Context, *Session) error { return nil }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: RegisterReader did not panic", name)
				}
			}()
			RegisterReader(rd)
		}()
	}
	if _, ok := reader("other"); ok {
		t.Error("a refused reader was registered")
	}
}
