//go:build unix

package scratch

import (
	"errors"
	"os"
	"strconv"
	"syscall"
)

// readUmask returns the process's file mode creation mask (setting it
// back at once: the mask is process-wide).
func readUmask() os.FileMode {
	u := syscall.Umask(0o22)
	syscall.Umask(u)
	return os.FileMode(u)
}

// gone reports whether no process of this machine has the PID.
func gone(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(n, 0), syscall.ESRCH)
}
