// Package contours gets the polygons of segmentation masks from the
// contours helper, a separate executable (cmd/yoloarchive-contours) that
// links OpenCV, so that the yoloarchive binary itself stays static and
// starts in milliseconds.
//
// [Helper] is the client: it finds the helper ([Find]: $YOLOARCHIVE_CONTOURS,
// then beside the running binary, then on PATH), starts it on first use,
// keeps it for the life of the process, and sends it masks from any number
// of goroutines at once. A helper that dies fails the calls in flight with
// an error naming it and how it ended; one that answers nothing for the
// timeout is killed the same way; the next call starts a new one. [Serve]
// is the helper's side, given the function that computes polygons
// (vision.Polygons in the real helper).
//
// The protocol runs over the helper's stdin and stdout. Every message is a
// frame: a little-endian uint32 length, then that many bytes. Integers are
// little-endian.
//
//	hello    (helper → client, once, when ready)
//	         "yoloarchive-contours" uint32(protocol version = 1) uint32(len) version-string
//	request  (client → helper)
//	         uint64(id) uint32(height) uint32(width) uint32(n) n × uint32(count)
//	response (helper → client, any order)
//	         uint64(id) uint8(0) uint32(polygons) { uint32(points) 2·points × int32(x, y) }
//	         uint64(id) uint8(1) error-message
//
// A request is a COCO RLE ([mask.RLE]); its response carries the request's
// id. The helper answers requests as they finish, several at a time, and
// exits when its stdin ends, after answering what it was sent.
package contours
