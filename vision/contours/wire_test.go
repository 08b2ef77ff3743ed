package contours

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/vision/mask"
)

func TestWire_RoundTrip(t *testing.T) {
	r := mask.RLE{Height: 3, Width: 4, Counts: []uint32{2, 5, 5}}
	id, got, err := parseRequest(appendRequest(nil, 42, r))
	if err != nil || id != 42 || !reflect.DeepEqual(got, r) {
		t.Errorf("request: %d %v %v", id, got, err)
	}
	polys := [][]int32{{1, 2, 3, 4, 5, 6}, {-1, 0, 7, 8, 9, 10, 11, 12}}
	id, back, remote, err := parseResponse(appendResponse(nil, 7, polys, nil))
	if err != nil || id != 7 || remote != nil || !reflect.DeepEqual(back, polys) {
		t.Errorf("response: %d %v %v %v", id, back, remote, err)
	}
	if id, back, remote, err = parseResponse(appendResponse(nil, 8, nil, nil)); err != nil || id != 8 || back != nil || remote != nil {
		t.Errorf("empty response: %d %v %v %v", id, back, remote, err)
	}
	if id, _, remote, err = parseResponse(appendResponse(nil, 9, nil, errors.New("no"))); err != nil || id != 9 || remote == nil || *remote != "no" {
		t.Errorf("error response: %d %v %v", id, remote, err)
	}
	// An error without a message is still an error (found by
	// FuzzParseResponse: it used to read as a mask without polygons).
	if _, polys, remote, err := parseResponse([]byte("00000000\x01")); err != nil || remote == nil || polys != nil {
		t.Errorf("error without a message: %v %v %v", polys, remote, err)
	}
	if v, err := parseHello(hello("x 1.0")); err != nil || v != "x 1.0" {
		t.Errorf("hello: %q %v", v, err)
	}
	other := hello("x")
	other[len(magic)] = 2
	if _, err := parseHello(other); err == nil || !strings.Contains(err.Error(), "protocol 2, this yoloarchive speaks 1") {
		t.Errorf("hello of protocol 2: %v", err)
	}
}

func TestWire_Frames(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	writeFrame(w, []byte("abc"))
	writeFrame(w, nil)
	w.Flush()
	r := bufio.NewReader(bytes.NewReader(b.Bytes()))
	if f, err := readFrame(r, nil); err != nil || string(f) != "abc" {
		t.Errorf("frame 1: %q %v", f, err)
	}
	if f, err := readFrame(r, nil); err != nil || len(f) != 0 {
		t.Errorf("frame 2: %q %v", f, err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"CutLength", "\x03\x00", "ends inside a frame length"},
		{"CutPayload", "\x03\x00\x00\x00ab", "ends inside a frame of 3 bytes"},
		{"Huge", "\xff\xff\xff\xff", "over the limit"},
	} {
		if _, err := readFrame(bufio.NewReader(strings.NewReader(tc.data)), nil); !errors.Is(err, errProtocol) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParseResponse checks that no answer from a broken or hostile helper
// makes the client panic or allocate without bound, and that what it
// accepts encodes back to the same bytes.
func FuzzParseResponse(f *testing.F) {
	f.Add(appendResponse(nil, 1, [][]int32{{1, 2, 3, 4, 5, 6}}, nil))
	f.Add(appendResponse(nil, 2, nil, errors.New("bad")))
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, polys, remote, err := parseResponse(b)
		if err != nil || remote != nil {
			return
		}
		if back := appendResponse(nil, id, polys, nil); !bytes.Equal(back, b) {
			t.Fatalf("%x parses to %v, which encodes to %x", b, polys, back)
		}
	})
}
