package archive

import (
	"bytes"
	"io"
	"os"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
)

// spoolMemLimit is how many bytes a spool keeps in memory before it moves
// its content to a temporary file.
const spoolMemLimit = 16 << 20

// spool collects bytes in memory and switches to a temporary file once it
// grows past spoolMemLimit, so that tables of any size can be buffered
// (tar needs an entry's size before its bytes) with bounded memory.
type spool struct {
	dir  string
	buf  bytes.Buffer
	file *os.File
	size int64
}

func newSpool(dir string) *spool { return &spool{dir: dir} }

// grow makes room in memory for size bytes, when they fit: an entry's
// size is known before its bytes.
func (s *spool) grow(size int64) {
	if s.file == nil && size > 0 && int64(s.buf.Len())+size <= spoolMemLimit {
		s.buf.Grow(int(size))
	}
}

// Write implements io.Writer.
func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && s.buf.Len()+len(p) > spoolMemLimit {
		f, err := scratch.Create(s.dir, "yoloarchive-spool")
		if err != nil {
			return 0, err
		}
		if _, err := f.Write(s.buf.Bytes()); err != nil {
			f.Close()
			scratch.Remove(f.Name())
			return 0, err
		}
		s.buf = bytes.Buffer{}
		s.file = f
	}
	var n int
	var err error
	if s.file != nil {
		n, err = s.file.Write(p)
	} else {
		n, err = s.buf.Write(p)
	}
	s.size += int64(n)
	return n, err
}

// Size returns the number of bytes written.
func (s *spool) Size() int64 { return s.size }

// ReaderAt returns a reader over the spooled bytes.
func (s *spool) ReaderAt() io.ReaderAt {
	if s.file != nil {
		return s.file
	}
	return bytes.NewReader(s.buf.Bytes())
}

// Reader returns a reader over the spooled bytes from the start.
func (s *spool) Reader() io.Reader { return io.NewSectionReader(s.ReaderAt(), 0, s.size) }

// Close releases the spool's memory and removes its temporary file.
func (s *spool) Close() error {
	s.buf = bytes.Buffer{}
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	if rerr := scratch.Remove(name); err == nil {
		err = rerr
	}
	s.file = nil
	return err
}
