// Package vision holds the image work of a capture: decoding COCO RLE
// segmentation masks, turning masks into polygons exactly as Ultralytics'
// Comet callback does (OpenCV findContours with RETR_LIST and
// CHAIN_APPROX_SIMPLE), and reading image sizes from file headers.
//
// It is the only package of yoloarchive that uses OpenCV (through gocv and
// cgo); the RLE and image-size code is pure Go.
package vision
