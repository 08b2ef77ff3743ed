package prefault

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// smaps returns the named fields (in kB) of the mapping of this process
// that holds addr, from /proc/self/smaps.
func smaps(t *testing.T, addr uintptr) map[string]int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in bool
	fields := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		// 00400000-00f45000 r-xp 00000000 fe:01 1234   /path, then "Rss:   1024 kB" lines
		if rng, _, _ := strings.Cut(line, " "); isRange(rng) {
			if in {
				return fields
			}
			lo, hi, _ := strings.Cut(rng, "-")
			l, _ := strconv.ParseUint(lo, 16, 64)
			h, _ := strconv.ParseUint(hi, 16, 64)
			in = uintptr(l) <= addr && addr < uintptr(h)
			continue
		}
		name, rest, _ := strings.Cut(line, ":")
		if v := strings.Fields(rest); in && len(v) == 2 && v[1] == "kB" {
			n, _ := strconv.Atoi(v[0])
			fields[name] = n
		}
	}
	if !in {
		t.Fatalf("no mapping holds %#x", addr)
	}
	return fields
}

// isRange reports whether s is a line's address range, "lo-hi".
func isRange(s string) bool {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, e1 := strconv.ParseUint(lo, 16, 64)
	_, e2 := strconv.ParseUint(hi, 16, 64)
	return e1 == nil && e2 == nil
}

// refused reports whether err is the kernel refusing an advice: one it
// does not know (older than the advice), a setting or seccomp filter that
// forbids it, or no huge page to be had (MADV_COLLAPSE is best effort).
func refused(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EPERM) ||
		errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.ENOMEM)
}

// skipIfOff skips a test when the caller's environment turned prefault
// (or its heap part) off for this test binary too.
func skipIfOff(t *testing.T, err error) {
	t.Helper()
	if err == errSkipped {
		t.Skip("turned off by YOLOARCHIVE_PREFAULT=0 or GODEBUG=disablethp=1 in the environment")
	}
}

// cleanEnv is os.Environ without the variables that turn prefault off.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "YOLOARCHIVE_PREFAULT=") && !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	return env
}

// TestText: init mapped in the whole text segment; populate maps in the
// whole of a file's mapping, of which nothing was mapped in before.
func TestText(t *testing.T) {
	skipIfOff(t, textErr)
	if refused(textErr) {
		t.Skipf("this kernel refuses MADV_POPULATE_READ (Linux 5.14): %v", textErr)
	}
	if textErr != nil {
		t.Fatalf("populating the text segment: %v", textErr)
	}
	if m := smaps(t, textAddr()); m["Size"] == 0 || m["Rss"] < m["Size"]*9/10 {
		t.Errorf("after init: %d kB resident of %d kB", m["Rss"], m["Size"])
	}

	const size = 8 << 20
	path := filepath.Join(t.TempDir(), "text")
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	addr := uintptr(unsafe.Pointer(&b[size/2]))
	if m := smaps(t, addr); m["Size"] != size>>10 || m["Rss"] != 0 {
		t.Fatalf("a new mapping: %d kB resident of %d kB", m["Rss"], m["Size"])
	}
	maps, err := readMaps()
	if err != nil {
		t.Fatal(err)
	}
	if err := populate(maps, addr); err != nil {
		t.Fatal(err)
	}
	if m := smaps(t, addr); m["Rss"] != size>>10 {
		t.Errorf("after populate: %d kB resident of %d kB", m["Rss"], m["Size"])
	}
}

// TestHeap: the 2 MiB of heap around a new object is one huge page.
func TestHeap(t *testing.T) {
	skipIfOff(t, collapseErr)
	if collapseErr == errNoTHP {
		t.Skipf("no 2 MiB transparent huge pages here: %v", collapseErr)
	}
	if refused(collapseErr) {
		t.Skipf("this kernel refuses MADV_COLLAPSE (Linux 6.1; best effort): %v", collapseErr)
	}
	if collapseErr != nil || hugeErr != nil {
		t.Fatalf("at init: collapse %v, huge pages ahead %v", collapseErr, hugeErr)
	}
	// Again, now: init's page may have been split since.
	maps, err := readMaps()
	if err != nil {
		t.Fatal(err)
	}
	collapse, ahead := hugeHeap(maps)
	if refused(collapse) {
		t.Skipf("MADV_COLLAPSE, now: %v", collapse)
	}
	if collapse != nil || ahead != nil {
		t.Fatalf("collapse %v, huge pages ahead %v", collapse, ahead)
	}
	m := smaps(t, uintptr(unsafe.Pointer(heapProbe)))
	if m["AnonHugePages"] < 2048 {
		t.Errorf("the heap's mapping holds %d kB of huge pages, want at least 2048", m["AnonHugePages"])
	}
}

// TestOff: YOLOARCHIVE_PREFAULT=0 leaves the memory alone, and
// GODEBUG=disablethp=1 the heap.
func TestOff(t *testing.T) {
	if os.Getenv("PREFAULT_TEST_REPORT") == "1" {
		os.Stdout.WriteString(strconv.FormatBool(textErr == errSkipped) + " " + strconv.FormatBool(collapseErr == errSkipped) + "\n")
		return
	}
	for _, tc := range []struct{ env, want string }{
		{"YOLOARCHIVE_PREFAULT=0", "true true"},
		{"GODEBUG=disablethp=1", "false true"},
		{"YOLOARCHIVE_PREFAULT=1", "false false"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOff$")
		cmd.Env = append(cleanEnv(), "PREFAULT_TEST_REPORT=1", tc.env)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", tc.env, err)
		}
		got, _, _ := strings.Cut(string(out), "\n")
		if got != tc.want {
			t.Errorf("%s: skipped text, heap = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestMappingOf(t *testing.T) {
	maps, err := readMaps()
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, err := mappingOf(maps, textAddr())
	if err != nil || !(lo < hi) || lo&4095 != 0 || hi&4095 != 0 {
		t.Errorf("text: %#x-%#x, %v", lo, hi, err)
	}
	p := uintptr(unsafe.Pointer(new(int)))
	if lo, hi, err := mappingOf(maps, p); err != nil || !(lo <= p && p < hi) {
		t.Errorf("heap: %#x-%#x, %v", lo, hi, err)
	}
	if _, _, err := mappingOf(maps, 8); err != errNotMapped {
		t.Errorf("address 8: %v, want errNotMapped", err)
	}
	fake := []byte("garbage\n-\n10-zz r-xp\n1000-3000 r-xp 0 0:0 0 /x\n4000-5000 rw-p")
	for addr, want := range map[uintptr]uintptr{0x1000: 0x1000, 0x2fff: 0x1000, 0x3000: 0, 0x4800: 0x4000} {
		lo, _, err := mappingOf(fake, addr)
		if lo != want || (want == 0) != (err == errNotMapped) {
			t.Errorf("fake maps, %#x: %#x, %v; want %#x", addr, lo, err, want)
		}
	}
}

func TestParseHex(t *testing.T) {
	cases := map[string]uint64{"0": 0, "00400000": 0x400000, "ffffffff": 0xffffffff}
	if ^uintptr(0)>>32 != 0 { // 64-bit
		cases["7ffd1c3a9000"] = 0x7ffd1c3a9000
		cases["ffffffffffffffff"] = 1<<64 - 1
	}
	for s, want := range cases {
		if got, ok := parseHex([]byte(s)); !ok || uint64(got) != want {
			t.Errorf("parseHex(%q) = %#x, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "0x10", "G", "10000000000000000", "ABC"} {
		if _, ok := parseHex([]byte(s)); ok {
			t.Errorf("parseHex(%q) accepted", s)
		}
	}
}

func TestReadFile(t *testing.T) {
	for _, n := range []int{0, 1, 8 << 10, 8<<10 + 1, 100 << 10, maxMapsBytes + 5000} {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte(i % 251)
		}
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n > maxMapsBytes {
			want = want[:len(got)]
			if len(got) < maxMapsBytes {
				t.Errorf("%d bytes: read %d, want at least %d", n, len(got), maxMapsBytes)
			}
		}
		if string(got) != string(want) {
			t.Errorf("%d bytes: read %d, not the file's", n, len(got))
		}
	}
	if _, err := readFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file: no error")
	}
}

// TestHeap_NotWhereTurnedOff: the heap is left alone where the
// administrator turned transparent huge pages off, or the kernel has none.
func TestHeap_NotWhereTurnedOff(t *testing.T) {
	defer func(p string) { thpEnabledPath = p }(thpEnabledPath)
	maps, err := readMaps()
	if err != nil {
		t.Fatal(err)
	}
	never := filepath.Join(t.TempDir(), "enabled")
	if err := os.WriteFile(never, []byte("always madvise [never]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{never, filepath.Join(t.TempDir(), "missing")} {
		thpEnabledPath = path
		if collapse, ahead := hugeHeap(maps); collapse != errNoTHP || ahead != errNoTHP {
			t.Errorf("%s: collapse %v, ahead %v; want errNoTHP", path, collapse, ahead)
		}
	}
}
