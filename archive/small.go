package archive

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Small archives are decoded in memory, in one call. A streaming zstd
// decoder allocates the frame's whole window at its first block, 8 MiB
// for the archives capture writes, whatever the archive's size: for the
// 870 KiB archive of the detect fixture (1.1 MB of tar) that window was
// most of what verify allocated, and the garbage collection it caused.
// Decoding in memory takes the decoded bytes instead, in one buffer
// sized from the frame headers, from the file mapped (mapFile; read into
// memory where it cannot be). It is only ever a faster way to the same
// bytes: whatever it does not accept (a frame it cannot bound, a decoding
// error, bytes after the frames) is read again by the streaming decoder,
// which reports the problem as it always has.

// memDecodeMax bounds what is decoded in memory: the ring a streaming
// decoder allocates for a capture's 8 MiB window (the window and two
// blocks), so decoding in memory never takes more than streaming would.
const memDecodeMax = 8<<20 + 2*(maxBlock+16)

// memReadMax is the largest archive file mapped or read whole before
// decoding (a variable for the tests, which compare both ways of
// reading).
var memReadMax int64 = memDecodeMax

// memDecoders keeps the decoders of decodeFrames: one decoder has one
// block decoder, so that concurrent reads do not wait for each other.
var memDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(memDecodeMax), zstd.WithDecoderMaxMemory(memDecodeMax))
	if err != nil {
		panic(err) // the options are constants
	}
	return d
}}

// decodeFrames decodes b in memory when its frames are whole, nothing
// follows them, and their headers bound the decoded size within the
// window (at most limits.MaxWindow) and memDecodeMax. It returns false
// when b is for the streaming decoder.
func decodeFrames(b []byte, limits Limits) ([]byte, *frameReader, bool) {
	fr := newFrameReader(nil)
	if fr.parse(b) != nil || !fr.done() || fr.window > limits.MaxWindow ||
		fr.bound > fr.window+2*(maxBlock+16) || fr.bound > memDecodeMax {
		return nil, nil, false
	}
	d := memDecoders.Get().(*zstd.Decoder)
	// The bound leaves a compressed block's maxBlock free before it, and
	// 16 bytes more keep the decoder on its fast copies (it wants room for
	// its overrun).
	out := make([]byte, 0, fr.bound+16)
	prefault(out)
	out, err := d.DecodeAll(b, out)
	memDecoders.Put(d) // not after a panic (decodeMapped): its state is unknown
	if err != nil {
		return nil, nil, false
	}
	fr.r = eofReader{}
	return out, fr, true
}

// eofReader is the input of a frameReader whose frames were parsed whole.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// memSource is the tar stream of an archive decoded in memory.
type memSource struct{ r *bytes.Reader }

func (m *memSource) Read(b []byte) (int, error) {
	if m.r == nil {
		return 0, errReaderClosed
	}
	return m.r.Read(b)
}

// Close implements source.
func (m *memSource) Close() { m.r = nil }

// decodeMapped is decodeFrames of a file's mapping (see mapFile).
func decodeMapped(b []byte, limits Limits) (out []byte, fr *frameReader, ok bool) {
	if !whileMapped(func() { out, fr, ok = decodeFrames(b, limits) }) {
		return nil, nil, false
	}
	return out, fr, ok
}

// whileMapped runs fn, which reads a file's mapping: a fault reading it
// (the file shrank under the mapping, SIGBUS) ends fn and returns false
// instead of crashing the program.
func whileMapped(fn func()) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			ok = false
		}
	}()
	fn()
	return true
}

// openReader returns a Reader of the archive file f (size bytes as f's
// Stat said, read from its start): decoded in memory when it is small,
// else streamed.
func openReader(ctx context.Context, f *os.File, size int64, limits Limits) (*Reader, error) {
	limits = limits.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := ctxReader{ctx, f}
	if size > memReadMax {
		return NewReader(in, limits)
	}
	if b, unmap, ok := mapFile(f, size, false); ok {
		out, fr, ok := decodeMapped(b, limits)
		unmap()
		// Bytes past size (the file grew since its Stat) are the
		// streaming decoder's to report.
		var one [1]byte
		if n, _ := f.ReadAt(one[:], size); ok && n == 0 {
			return newReader(fr, &memSource{bytes.NewReader(out)}, limits)
		}
		return NewReader(in, limits)
	}
	buf := make([]byte, size+1)
	n, err := io.ReadFull(in, buf)
	switch {
	case err == nil: // the file grew since its Stat
		return NewReader(io.MultiReader(bytes.NewReader(buf), in), limits)
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, err
	}
	buf = buf[:n]
	out, fr, ok := decodeFrames(buf, limits)
	if !ok {
		return NewReader(bytes.NewReader(buf), limits)
	}
	return newReader(fr, &memSource{bytes.NewReader(out)}, limits)
}

// readHeaderSmall reads an archive's header from the first block of its
// first frame, decoded in memory, when the file starts with one that holds
// the whole header entry; ok is false otherwise (read it streaming). That
// block is decoded as a frame of its own: the same header with no content
// checksum, the block marked last. Frames that declare their content size
// are left to the streaming decoder (one block would not match it).
func readHeaderSmall(f *os.File, limits Limits) (_ *Reader, ok bool) {
	limits = limits.withDefaults()
	st, err := f.Stat()
	if memReadMax == 0 || err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	size := min(st.Size(), 18+3+maxBlock) // the largest frame header and block
	if b, unmap, ok := mapFile(f, size, true); ok {
		defer unmap()
		var r *Reader
		if !whileMapped(func() { r, ok = headerFromBlock(b, limits) }) {
			return nil, false
		}
		return r, ok
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, false
	}
	return headerFromBlock(buf[:n], limits)
}

// headerFromBlock reads the header from the first block of the frame b
// begins with, which it changes.
func headerFromBlock(b []byte, limits Limits) (*Reader, bool) {
	fr := newFrameReader(nil)
	if fr.parse(b) != nil || fr.firstEnd == 0 || fr.sized || fr.window > limits.MaxWindow || fr.window > memDecodeMax {
		return nil, false
	}
	one := b[:fr.firstEnd]
	one[4] &^= 0x04      // no content checksum
	one[fr.firstAt] |= 1 // the last block
	d := memDecoders.Get().(*zstd.Decoder)
	out := make([]byte, 0, maxBlock+16)
	prefault(out)
	out, err := d.DecodeAll(one, out)
	memDecoders.Put(d)
	if err != nil {
		return nil, false
	}
	r, err := newReader(fr, &memSource{bytes.NewReader(out)}, limits)
	if err != nil {
		return nil, false
	}
	return r, true
}
