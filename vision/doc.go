// Package vision holds the image work of a capture:
//
//   - COCO run-length encoded masks (the "segmentation" of Ultralytics'
//     predictions.json): [DecodeSegmentation], [ParseRLEString] and
//     [NewRLE] read both forms of COCO RLE exactly as pycocotools does,
//     rejecting malformed input with errors that wrap [ErrBadRLE];
//     [RLE.Decode], [RLE.Bounds] and [RLE.Crop] expand them, [EncodeMask]
//     and [RLE.String] write them.
//   - Polygons from masks, exactly as Ultralytics' Comet callback makes
//     them (OpenCV's findContours with RETR_LIST and CHAIN_APPROX_SIMPLE,
//     contours of fewer than 3 points dropped): [Polygons] and
//     [PolygonsFromMask].
//   - Image sizes from file headers: [ImageSize] and [ImageFileSize].
//
// It is the only package of yoloarchive that uses OpenCV (through gocv and
// cgo); the RLE and image-size code is pure Go. Every function is safe for
// concurrent use.
package vision
