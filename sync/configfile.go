package sync

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// MaxConfigSize is the largest tracker configuration file that is read. A
// clearml.conf or .comet.config holds a few kilobytes; a larger file is
// something else, named by mistake.
const MaxConfigSize = 1 << 20

// ReadConfigFile reads a tracker's configuration file (what names its
// kind, e.g. "clearml.conf"). The file is whatever the environment
// names, so it is read as hostile input: it must be a regular file (a
// FIFO would block, a device never end) of at most MaxConfigSize bytes.
// Errors name the file and what to do, and wrap os.ErrNotExist when there
// is no file.
func ReadConfigFile(path, what string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO does not wait for a writer; it is then
	// refused as not a regular file.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the %s (%w): fix its permissions or point to another file", path, what, errNoPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the %s (%w)", path, what, errNoPath(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: the %s is not a regular file (%s): point to the file itself", path, what, st.Mode().Type())
	}
	if st.Size() > MaxConfigSize {
		return nil, fmt.Errorf("%s: %d bytes is too large for a %s (at most %d): point to the right file", path, st.Size(), what, MaxConfigSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the %s (%w)", path, what, errNoPath(err))
	}
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("%s: the %s grew past %d bytes while it was read: point to the right file", path, what, MaxConfigSize)
	}
	return data, nil
}

// errNoPath drops the path from an *os.PathError, which the caller's
// message names already.
func errNoPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
