package prefault

import (
	"os"
	"syscall"
	"unsafe"
)

// The advices that package syscall lacks (linux/mman.h).
const (
	madvHugepage     = 14 // MADV_HUGEPAGE
	madvPopulateRead = 22 // MADV_POPULATE_READ, Linux 5.14
	madvCollapse     = 25 // MADV_COLLAPSE, Linux 6.1
	hugePage         = 2 << 20
	hugeAhead        = 8 << 20 // heap after the first objects advised as huge pages
	mapsPath         = "/proc/self/maps"
	maxMapsBytes     = 1 << 20
)

// The outcome of each step, for the tests: nil, the kernel's refusal, or
// errSkipped.
var (
	textErr     error = errSkipped
	collapseErr error = errSkipped
	hugeErr     error = errSkipped
)

// thpEnabledPath is the system's setting of transparent huge pages (a
// variable for the tests).
var thpEnabledPath = "/sys/kernel/mm/transparent_hugepage/enabled"

// heapProbe is the object whose address says where the heap is.
var heapProbe *[64]byte

func init() {
	if os.Getenv("YOLOARCHIVE_PREFAULT") == "0" {
		return
	}
	maps, err := readMaps()
	if err != nil {
		textErr, collapseErr, hugeErr = err, err, err
		return
	}
	textErr = populate(maps, textAddr())
	if !contains(os.Getenv("GODEBUG"), "disablethp=1") {
		collapseErr, hugeErr = hugeHeap(maps)
	}
}

// thpAllowed reports whether huge pages are for this program to use: the
// page size is 4 KiB (so a huge page is 2 MiB), and the administrator has
// not turned transparent huge pages off ("[never]" in enabled), which
// MADV_COLLAPSE would not heed.
func thpAllowed() error {
	if os.Getpagesize() != 4096 {
		return errNoTHP
	}
	b, err := readFile(thpEnabledPath)
	if err != nil || contains(string(b), "[never]") {
		return errNoTHP
	}
	return nil
}

// populate maps in the whole mapping that holds addr (for init, the
// executable's text segment), in one call.
func populate(maps []byte, addr uintptr) error {
	lo, hi, err := mappingOf(maps, addr)
	if err != nil {
		return err
	}
	return madvise(lo, hi-lo, madvPopulateRead)
}

// hugeHeap makes the 2 MiB of heap around a new object one huge page and,
// when the kernel could, advises the rest of hugeAhead after it to be
// allocated as huge pages, as far as the heap is mapped now: at start,
// the rest of the runtime's first 4 MiB chunk, at most 2 MiB. (The
// runtime maps the heap 4 MiB at a time as it grows, and a new mapping
// does not keep the advice.) So a long command keeps at most 4 MiB of its
// heap in huge pages, which the kernel may fill again after the runtime
// returned part of them.
func hugeHeap(maps []byte) (collapse, ahead error) {
	if err := thpAllowed(); err != nil {
		return err, err
	}
	heapProbe = new([64]byte)
	p := uintptr(unsafe.Pointer(heapProbe))
	lo, hi, err := mappingOf(maps, p)
	if err != nil {
		return err, err
	}
	start := p &^ (hugePage - 1)
	end := min(start+hugeAhead, hi) &^ (hugePage - 1)
	if start < lo || end <= start {
		return errNoRoom, errNoRoom
	}
	// The collapse first: a kernel that cannot (older than 6.1, out of
	// huge pages) is left no advice either.
	if collapse = madvise(start, hugePage, madvCollapse); collapse != nil {
		return collapse, collapse
	}
	if end > start+hugePage {
		ahead = madvise(start+hugePage, end-start-hugePage, madvHugepage)
	}
	return nil, ahead
}

// readMaps reads /proc/self/maps.
func readMaps() ([]byte, error) { return readFile(mapsPath) }

// readFile reads the first maxMapsBytes of a file: /proc/self/maps is
// ~3 KiB for this program, read into a buffer of two pages (a larger one
// is pages to fault in), grown as needed.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	maps := make([]byte, 0, 8<<10)
	for len(maps) < maxMapsBytes {
		if len(maps) == cap(maps) {
			maps = append(maps, 0)[:len(maps)]
		}
		n, err := f.Read(maps[len(maps):cap(maps)])
		maps = maps[:len(maps)+n]
		if err != nil || n == 0 {
			break
		}
	}
	return maps, nil
}

// mappingOf returns the bounds of the mapping that holds addr, from the
// text of /proc/self/maps.
func mappingOf(maps []byte, addr uintptr) (lo, hi uintptr, err error) {
	// 00400000-00f45000 r-xp 00000000 fe:01 1234   /path/to/yoloarchive
	for len(maps) > 0 {
		line := maps
		if i := index(maps, '\n'); i >= 0 {
			line, maps = maps[:i], maps[i+1:]
		} else {
			maps = nil
		}
		sp := index(line, ' ')
		dash := index(line, '-')
		if sp < 0 || dash < 0 || dash > sp {
			continue
		}
		lo, okl := parseHex(line[:dash])
		hi, okh := parseHex(line[dash+1 : sp])
		if okl && okh && lo <= addr && addr < hi {
			return lo, hi, nil
		}
	}
	return 0, 0, errNotMapped
}

// index returns the index of the first c in b, or -1. The package uses
// neither bytes nor strings, which would initialise it later (see the
// package doc).
func index(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// contains reports whether s holds sub.
func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// parseHex reads an address of /proc/self/maps (lower-case hex).
func parseHex(s []byte) (uintptr, bool) {
	if len(s) == 0 || len(s) > 16 {
		return 0, false
	}
	var v uintptr
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uintptr(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uintptr(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// textAddr returns an address in the text segment: readMaps's code.
func textAddr() uintptr {
	f := readMaps
	return **(**uintptr)(unsafe.Pointer(&f))
}

func madvise(addr, n, advice uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, addr, n, advice); e != 0 {
		return e
	}
	return nil
}
