package contours

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/yoloarchive/yoloarchive/vision/mask"
)

// magic opens the helper's hello; ProtocolVersion follows it.
const magic = "yoloarchive-contours"

// ProtocolVersion is the version of the helper protocol this package
// speaks; a helper of another version is refused.
const ProtocolVersion = 1

// maxFrame bounds a frame: a request of a mask at the size cap whose runs
// are all one pixel long, with room for its header.
const maxFrame = 4*(mask.MaxMaskPixels+1) + 64

// errProtocol is wrapped by errors about malformed frames.
var errProtocol = errors.New("contours: protocol error")

// writeFrame writes one frame.
func writeFrame(w *bufio.Writer, payload []byte) error {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(payload)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// readFrame reads one frame into buf (grown as needed) and returns it. It
// returns io.EOF only at a frame boundary.
func readFrame(r *bufio.Reader, buf []byte) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: the stream ends inside a frame length", errProtocol)
		}
		return nil, err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size > maxFrame {
		return nil, fmt.Errorf("%w: a frame of %d bytes is over the limit of %d", errProtocol, size, maxFrame)
	}
	if cap(buf) < int(size) {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: the stream ends inside a frame of %d bytes", errProtocol, size)
		}
		return nil, err
	}
	return buf, nil
}

// hello is the helper's first frame.
func hello(version string) []byte {
	b := append([]byte(magic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[len(magic):], ProtocolVersion)
	return appendString(b, version)
}

// parseHello checks a hello frame and returns the helper's version string.
func parseHello(b []byte) (string, error) {
	if len(b) < len(magic)+8 || string(b[:len(magic)]) != magic {
		return "", fmt.Errorf("%w: it did not greet as a yoloarchive-contours helper", errProtocol)
	}
	if v := binary.LittleEndian.Uint32(b[len(magic):]); v != ProtocolVersion {
		return "", fmt.Errorf("%w: it speaks protocol %d, this yoloarchive speaks %d: install the helper of the same release", errProtocol, v, ProtocolVersion)
	}
	s, rest, ok := cutString(b[len(magic)+4:])
	if !ok || len(rest) != 0 {
		return "", fmt.Errorf("%w: malformed hello", errProtocol)
	}
	return s, nil
}

// appendRequest appends a request frame's payload.
func appendRequest(b []byte, id uint64, r mask.RLE) []byte {
	b = binary.LittleEndian.AppendUint64(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Height))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Width))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Counts)))
	for _, c := range r.Counts {
		b = binary.LittleEndian.AppendUint32(b, c)
	}
	return b
}

// parseRequest decodes a request payload. The RLE is not validated.
func parseRequest(b []byte) (uint64, mask.RLE, error) {
	if len(b) < 20 {
		return 0, mask.RLE{}, fmt.Errorf("%w: a request of %d bytes", errProtocol, len(b))
	}
	id := binary.LittleEndian.Uint64(b)
	h, w := binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
	n := binary.LittleEndian.Uint32(b[16:])
	if uint64(len(b)-20) != 4*uint64(n) {
		return id, mask.RLE{}, fmt.Errorf("%w: request %d says %d counts in %d bytes", errProtocol, id, n, len(b)-20)
	}
	if h > mask.MaxMaskPixels || w > mask.MaxMaskPixels {
		return id, mask.RLE{}, fmt.Errorf("%w: size %dx%d is over the limit of %d pixels", mask.ErrBadRLE, h, w, mask.MaxMaskPixels)
	}
	r := mask.RLE{Height: int(h), Width: int(w), Counts: make([]uint32, n)}
	for i := range r.Counts {
		r.Counts[i] = binary.LittleEndian.Uint32(b[20+4*i:])
	}
	return id, r, nil
}

// appendResponse appends a response payload: the polygons, or err.
func appendResponse(b []byte, id uint64, polys [][]int32, err error) []byte {
	b = binary.LittleEndian.AppendUint64(b, id)
	if err != nil {
		return append(append(b, 1), err.Error()...)
	}
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(polys)))
	for _, p := range polys {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)/2))
		for _, v := range p[:len(p)/2*2] {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
	}
	return b
}

// parseResponse decodes a response payload. A helper's error comes back as
// remote (a message, possibly empty), a malformed payload as err.
func parseResponse(b []byte) (id uint64, polys [][]int32, remote *string, err error) {
	if len(b) < 9 {
		return 0, nil, nil, fmt.Errorf("%w: a response of %d bytes", errProtocol, len(b))
	}
	id, status, b := binary.LittleEndian.Uint64(b), b[8], b[9:]
	switch status {
	case 1:
		msg := string(b)
		return id, nil, &msg, nil
	case 0:
	default:
		return id, nil, nil, fmt.Errorf("%w: response %d has status %d", errProtocol, id, status)
	}
	bad := func() (uint64, [][]int32, *string, error) {
		return id, nil, nil, fmt.Errorf("%w: response %d is cut short", errProtocol, id)
	}
	if len(b) < 4 {
		return bad()
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(n)*4 > uint64(len(b)) {
		return bad()
	}
	if n > 0 {
		polys = make([][]int32, n)
	}
	for i := range polys {
		if len(b) < 4 {
			return bad()
		}
		pts := uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
		if pts*8 > uint64(len(b)) {
			return bad()
		}
		p := make([]int32, 2*pts)
		for j := range p {
			p[j] = int32(binary.LittleEndian.Uint32(b[4*j:]))
		}
		polys[i], b = p, b[8*pts:]
	}
	if len(b) != 0 {
		return id, nil, nil, fmt.Errorf("%w: response %d has %d bytes too many", errProtocol, id, len(b))
	}
	return id, polys, nil, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint32(b, uint32(len(s))), s...)
}

func cutString(b []byte) (string, []byte, bool) {
	if len(b) < 4 {
		return "", nil, false
	}
	n := uint64(binary.LittleEndian.Uint32(b))
	if n > uint64(len(b)-4) {
		return "", nil, false
	}
	return string(b[4 : 4+n]), b[4+n:], true
}
