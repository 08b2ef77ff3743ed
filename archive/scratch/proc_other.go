//go:build !unix

package scratch

import (
	"os"
	"strconv"
)

// readUmask returns 0: the system has no file mode creation mask.
func readUmask() os.FileMode { return 0 }

// gone reports whether no process of this machine has the PID: on
// Windows, os.FindProcess opens the process and fails when none has it.
func gone(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	p, err := os.FindProcess(n)
	if err != nil {
		return true
	}
	p.Release()
	return false
}
