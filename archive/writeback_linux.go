package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks Linux to start writing a range of f to disk without
// waiting for it. Errors are ignored: the final fsync reports them.
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
