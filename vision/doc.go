// Package vision computes the polygons of segmentation masks exactly as
// Ultralytics' Comet callback does (OpenCV's findContours with RETR_LIST
// and CHAIN_APPROX_SIMPLE, contours of fewer than 3 points dropped):
// [Polygons] for a COCO RLE ([mask.RLE]) and [PolygonsFromMask] for a
// decoded mask.
//
// It is the only package of yoloarchive that uses OpenCV (through gocv and
// cgo), and only the contours helper (cmd/yoloarchive-contours) links it:
// the yoloarchive binary is static and asks the helper for polygons
// through package [github.com/yoloarchive/yoloarchive/vision/contours].
// The pure-Go parts are its siblings: [mask] (COCO RLE), imagesize (image
// sizes from file headers), contours (the helper's protocol) and masktest
// (masks drawn for tests). Every function is safe for concurrent use.
package vision
