package prefault

import "errors"

var (
	// errSkipped is the outcome of a step that did not run (not Linux,
	// turned off, or before init).
	errSkipped = errors.New("prefault: not run")
	// errNotMapped: no mapping of the process holds the address.
	errNotMapped = errors.New("prefault: address not in /proc/self/maps")
	// errNoRoom: the heap's mapping holds no whole huge page around the
	// heap's first objects.
	errNoRoom = errors.New("prefault: no huge page fits the heap's mapping")
	// errNoTHP: no 2 MiB transparent huge pages here (another page size,
	// none in the kernel, or turned off).
	errNoTHP = errors.New("prefault: transparent huge pages off or not 2 MiB")
)
