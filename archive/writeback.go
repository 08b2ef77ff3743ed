package archive

import "os"

// writebackChunk is how many bytes a writebackFile lets accumulate before
// it asks the kernel to start writing them to disk.
const writebackChunk = 8 << 20

// writebackFile is the archive's temporary file. It starts the kernel's
// writeback of every written chunk while the archive is still being
// compressed, so that the fsync that makes the archive durable at the end
// has little left to wait for (RocksDB's bytes_per_sync, in effect).
type writebackFile struct {
	*os.File
	written, started int64
}

// Write implements io.Writer.
func (f *writebackFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.written += int64(n)
	if f.written-f.started >= writebackChunk {
		startWriteback(f.File, f.started, f.written-f.started)
		f.started = f.written
	}
	return n, err
}
