package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errAfterFrame is returned by a frameReader when bytes that are not a
// zstd frame follow the archive's frames.
var errAfterFrame = errors.New("data follows the last zstd frame (appended bytes or a skippable frame)")

// Frame parser states.
const (
	fsMagic = iota
	fsDescriptor
	fsHeaderRest
	fsBlockHeader
	fsBlockBody
	fsChecksum
	fsDone
	fsPassive // not a zstd frame: left to the decoder to report
)

// frameReader passes the compressed archive through unchanged while it
// follows the structure of its zstd frames (RFC 8878: frame header, block
// headers, checksum). After a frame only another zstd frame may come:
// a skippable frame or any other byte is an error (the decoder skips
// skippable frames silently, so that bytes hidden in one went unseen).
// What further frames decompress to is checked by the reader: nothing but
// zero padding may follow the tar end marker.
type frameReader struct {
	r      io.Reader
	state  int
	need   int // bytes wanted in buf for the current header state
	buf    [18]byte
	have   int   // bytes in buf
	skip   int64 // bytes of block body left
	last   bool  // the current block is the frame's last
	crc    bool  // the frame ends with a 4-byte checksum
	err    error
	frames int // frames begun

	// What the frames' headers declare, for decoding in memory (see
	// decodeFrames): the largest window, and an upper bound of the
	// decoded size (a raw or RLE block's size, maxBlock for a compressed
	// block, at most the frame's content size when it declares one).
	dict, fcsLen int // the header's dictionary ID and content size fields
	single       bool
	window       uint64 // the largest window of the frames so far
	fcs          uint64 // the current frame's content size, or unknownSize
	frameBound   uint64 // the current frame's decoded-size bound so far
	bound        uint64 // the finished frames' decoded-size bound

	off      int64 // bytes parsed
	blockAt  int64 // offset of the current block's header
	firstEnd int64 // end of the first frame's first block, once read
	firstAt  int64 // offset of that block's header
	sized    bool  // the first frame declares its content size
}

// maxBlock is the most a zstd block decodes to (RFC 8878 3.1.1.2.3).
const maxBlock = 128 << 10

// unknownSize is a frame content size its header does not give.
const unknownSize = ^uint64(0)

func newFrameReader(r io.Reader) *frameReader { return &frameReader{r: r, need: 4} }

// done reports whether a whole frame has been read.
func (f *frameReader) done() bool { return f.state == fsDone && f.err == nil }

// Read implements io.Reader.
func (f *frameReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.r.Read(p)
	if perr := f.parse(p[:n]); perr != nil {
		f.err = perr
		return 0, perr
	}
	return n, err
}

// parse advances the state machine over b.
func (f *frameReader) parse(b []byte) error {
	for len(b) > 0 {
		switch f.state {
		case fsDone: // another frame begins
			f.state, f.need = fsMagic, 4
		case fsPassive:
			return nil
		case fsBlockBody:
			k := int64(len(b))
			if k > f.skip {
				k = f.skip
			}
			f.skip -= k
			f.off += k
			b = b[k:]
			if f.skip == 0 {
				f.endBlock()
			}
			continue
		}
		k := copy(f.buf[f.have:f.need], b)
		f.have += k
		f.off += int64(k)
		b = b[k:]
		if f.have < f.need {
			return nil
		}
		if err := f.step(); err != nil {
			return err
		}
	}
	return nil
}

// step handles a complete header field in buf.
func (f *frameReader) step() error {
	f.have = 0
	switch f.state {
	case fsMagic:
		if f.buf[0] != 0x28 || f.buf[1] != 0xb5 || f.buf[2] != 0x2f || f.buf[3] != 0xfd {
			if f.frames > 0 {
				return errAfterFrame
			}
			f.state = fsPassive // not zstd at all: the decoder reports it
			return nil
		}
		f.frames++
		f.frameBound, f.fcs = 0, unknownSize
		f.state, f.need = fsDescriptor, 1
	case fsDescriptor:
		d := f.buf[0]
		fcs := [4]int{0, 2, 4, 8}[d>>6]
		single := d&0x20 != 0
		if fcs == 0 && single {
			fcs = 1
		}
		win := 1
		if single {
			win = 0
		}
		f.crc = d&0x04 != 0
		f.dict, f.fcsLen, f.single = [4]int{0, 1, 2, 4}[d&3], fcs, single
		rest := win + f.dict + fcs
		if rest == 0 {
			f.state, f.need = fsBlockHeader, 3
		} else {
			f.state, f.need = fsHeaderRest, rest
		}
	case fsHeaderRest:
		f.headerRest()
		f.state, f.need = fsBlockHeader, 3
	case fsBlockHeader:
		h := uint32(f.buf[0]) | uint32(f.buf[1])<<8 | uint32(f.buf[2])<<16
		f.blockAt = f.off - 3
		f.last = h&1 != 0
		size := int64(h >> 3)
		switch (h >> 1) & 3 {
		case 0: // raw
			f.frameBound += uint64(size)
		case 1: // RLE: one byte repeated size times
			f.frameBound += uint64(size)
			size = 1
		case 2:
			f.frameBound += maxBlock
		case 3:
			f.state = fsPassive // the decoder reports it
			return nil
		}
		f.skip = size
		f.state = fsBlockBody
		if size == 0 {
			f.endBlock()
		}
	case fsChecksum:
		f.endFrame()
	}
	return nil
}

// headerRest reads the window and content size of the frame header's
// fields after the descriptor (RFC 8878 3.1.1.1.2 to 3.1.1.1.4).
func (f *frameReader) headerRest() {
	b := f.buf[:]
	var win uint64
	if !f.single {
		exp, mant := uint64(b[0]>>3), uint64(b[0]&7)
		base := uint64(1) << (10 + exp)
		win = base + base/8*mant
		b = b[1:]
	}
	b = b[f.dict:]
	var fcs uint64
	switch f.fcsLen {
	case 1:
		fcs = uint64(b[0])
	case 2:
		fcs = uint64(binary.LittleEndian.Uint16(b)) + 256
	case 4:
		fcs = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		fcs = binary.LittleEndian.Uint64(b)
	}
	if f.fcsLen > 0 {
		f.fcs = fcs
	}
	if f.single {
		win = fcs
	}
	f.window = max(f.window, win)
}

// endFrame counts a finished frame's decoded size.
func (f *frameReader) endFrame() {
	f.state = fsDone
	f.bound += min(f.frameBound, f.fcs)
}

// endBlock moves past a block's body.
func (f *frameReader) endBlock() {
	if f.firstEnd == 0 && f.frames == 1 {
		f.firstAt, f.firstEnd, f.sized = f.blockAt, f.off, f.fcs != unknownSize
	}
	switch {
	case !f.last:
		f.state, f.need = fsBlockHeader, 3
	case f.crc:
		f.state, f.need = fsChecksum, 4
	default:
		f.endFrame()
	}
}

// zeroWriter accepts only zero bytes: the padding after a tar end marker.
type zeroWriter struct{}

// Write implements io.Writer.
func (zeroWriter) Write(p []byte) (int, error) {
	for i, c := range p {
		if c != 0 {
			return i, fmt.Errorf("%w: data follows the tar end marker", ErrBadEntry)
		}
	}
	return len(p), nil
}
