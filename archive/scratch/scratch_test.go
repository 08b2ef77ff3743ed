package scratch

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	gosync "sync"
	"syscall"
	"testing"
)

// TestMain doubles as the helper process of TestSweep_KilledWriter.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SCRATCH_TEST_WRITER"); dir != "" {
		f, err := Create(dir, "run.tar.zst")
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		f.WriteString("half an archive")
		if _, err := Mkdir(dir, "yoloarchive-compact"); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		fmt.Println("ready")
		select {} // until killed
	}
	os.Exit(m.Run())
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.yoloarchive-*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSweep_KilledWriter: a writer killed with SIGKILL leaves its scratch
// file and directory; while it lives nobody removes them, once it is dead
// the next sweep of the directory does.
func TestSweep_KilledWriter(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SCRATCH_TEST_WRITER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("writer: %q", line)
	}
	if n := len(names(t, dir)); n != 2 {
		t.Fatalf("%d scratch paths, want 2", n)
	}
	if removed := Sweep(dir); len(removed) != 0 {
		t.Fatalf("swept a live writer's files: %v", removed)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if removed := Sweep(dir); len(removed) != 2 {
		t.Errorf("swept %v, want the file and the directory", removed)
	}
	if left := names(t, dir); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
}

// TestSweep_Live: this process's own scratch files survive sweeps, and
// files that only look alike are not touched.
func TestSweep_Live(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, "part-0.parquet")
	if err != nil {
		t.Fatal(err)
	}
	defer Remove(f.Name())
	f.Close() // the writer's own descriptor; the lock stays
	other := filepath.Join(dir, ".notes.yoloarchive.tmp")
	os.WriteFile(other, nil, 0o644)
	if removed := Sweep(dir); len(removed) != 0 {
		t.Fatalf("swept %v", removed)
	}
	if _, err := os.Stat(f.Name()); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "part-0.parquet")
	if err := Rename(f.Name(), dst); err != nil || Live() != 0 {
		t.Fatalf("rename: %v, %d live", err, Live())
	}
}

// TestRemoveAll: what is still scratch is removed, what was renamed into
// place stays, and no scratch path is made after it.
func TestRemoveAll(t *testing.T) {
	defer func() { stopped, critical = false, gosync.RWMutex{} }()
	dir := t.TempDir()
	a, _ := Create(dir, "a")
	b, _ := Create(dir, "b")
	d, _ := Mkdir(dir, "d")
	os.WriteFile(filepath.Join(d, "x"), []byte("x"), 0o644)
	a.Close()
	b.Close()
	if err := Rename(b.Name(), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if removed := RemoveAll(); len(removed) != 2 {
		t.Errorf("removed %v, want a's file and d", removed)
	}
	if left := names(t, dir); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); err != nil {
		t.Error(err)
	}
	if _, err := Create(dir, "late"); !errors.Is(err, ErrStopped) {
		t.Errorf("Create after RemoveAll: %v", err)
	}
}
