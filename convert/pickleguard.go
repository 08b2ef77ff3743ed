package convert

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// pickleArg describes how a pickle opcode's argument is encoded, as
// Python's pickletools does: a fixed number of bytes, a length prefix of n
// bytes (little-endian), or a newline-terminated line (lines: how many).
type pickleArg struct {
	fixed, lenPrefix, lines int
}

// pickleOps lists every opcode of pickle protocols 0 to 5 (pickletools).
var pickleOps = map[byte]pickleArg{
	'(': {}, '.': {}, '0': {}, '1': {}, '2': {}, 'N': {}, ')': {}, ']': {}, '}': {},
	'a': {}, 'e': {}, 's': {}, 'u': {}, 't': {}, 'l': {}, 'd': {}, 'b': {}, 'R': {},
	'o': {}, 'Q': {}, '\x81': {}, '\x85': {}, '\x86': {}, '\x87': {}, '\x88': {},
	'\x89': {}, '\x8f': {}, '\x90': {}, '\x91': {}, '\x92': {}, '\x93': {}, '\x94': {},
	'\x97': {}, '\x98': {},
	'I': {lines: 1}, 'L': {lines: 1}, 'F': {lines: 1}, 'S': {lines: 1}, 'V': {lines: 1},
	'P': {lines: 1}, 'g': {lines: 1}, 'p': {lines: 1}, 'c': {lines: 2}, 'i': {lines: 2},
	'K': {fixed: 1}, 'M': {fixed: 2}, 'J': {fixed: 4}, 'G': {fixed: 8}, 'h': {fixed: 1},
	'j': {fixed: 4}, 'q': {fixed: 1}, 'r': {fixed: 4}, '\x80': {fixed: 1}, '\x82': {fixed: 1},
	'\x83': {fixed: 2}, '\x84': {fixed: 4},
	'\x8a': {lenPrefix: 1}, '\x8b': {lenPrefix: 4}, 'T': {lenPrefix: 4}, 'U': {lenPrefix: 1},
	'X': {lenPrefix: 4}, 'B': {lenPrefix: 4}, 'C': {lenPrefix: 1}, '\x8c': {lenPrefix: 1},
	'\x8d': {lenPrefix: 8}, '\x8e': {lenPrefix: 8}, '\x96': {lenPrefix: 8},
	'\x95': {fixed: 8}, // FRAME: its length, then the framed opcodes follow inline
}

const opFrame = '\x95'

// checkPickle walks a pickle's opcodes without running them and refuses
// unknown opcodes, arguments running past the end, and declared lengths
// larger than the data: the checks that keep a decoder from allocating
// what a damaged or hostile file claims.
func checkPickle(data []byte) error {
	for p := 0; p < len(data); {
		op := data[p]
		arg, ok := pickleOps[op]
		if !ok {
			return fmt.Errorf("unknown pickle opcode 0x%02x at %d", op, p)
		}
		p++
		switch {
		case op == opFrame:
			if p+8 > len(data) {
				return fmt.Errorf("pickle ends inside a frame header")
			}
			if n := binary.LittleEndian.Uint64(data[p:]); n > uint64(len(data)-p-8) {
				return fmt.Errorf("pickle frame at %d claims %d bytes, %d remain", p, n, len(data)-p-8)
			}
			p += 8
		case arg.fixed > 0:
			p += arg.fixed
		case arg.lenPrefix > 0:
			if p+arg.lenPrefix > len(data) {
				return fmt.Errorf("pickle ends inside opcode 0x%02x", op)
			}
			var n uint64
			switch arg.lenPrefix {
			case 1:
				n = uint64(data[p])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(data[p:]))
			case 8:
				n = binary.LittleEndian.Uint64(data[p:])
			}
			p += arg.lenPrefix
			if n > uint64(len(data)-p) {
				return fmt.Errorf("pickle opcode 0x%02x at %d claims %d bytes, %d remain", op, p, n, len(data)-p)
			}
			p += int(n)
		case arg.lines > 0:
			for i := 0; i < arg.lines; i++ {
				nl := bytes.IndexByte(data[p:], '\n')
				if nl < 0 {
					return fmt.Errorf("pickle ends inside opcode 0x%02x", op)
				}
				p += nl + 1
			}
		}
		if p > len(data) {
			return fmt.Errorf("pickle ends inside opcode 0x%02x", op)
		}
		if op == '.' {
			return nil
		}
	}
	return fmt.Errorf("pickle has no STOP opcode")
}
