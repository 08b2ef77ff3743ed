package synctest

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/creack/pty"
)

// Terminal opens a pseudo-terminal and records what is written to it.
// tty is the side a program writes to. transcript closes tty, waits until
// all that was written has been read, and returns it. Both sides are
// closed when the test ends.
func Terminal(t testing.TB) (tty *os.File, transcript func() string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() {
		tty.Close()
		ptmx.Close()
	})
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&screen, ptmx) // ends with EIO once tty is closed
		close(read)
	}()
	return tty, func() string {
		tty.Close()
		<-read
		return screen.String()
	}
}
