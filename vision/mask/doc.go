// Package mask reads and writes COCO run-length encoded masks (the
// "segmentation" of Ultralytics' predictions.json) exactly as pycocotools
// does: [DecodeSegmentation], [ParseRLEString] and [NewRLE] read both forms
// of COCO RLE, rejecting malformed input with errors that wrap
// [ErrBadRLE]; [RLE.Decode], [RLE.Bounds], [RLE.Crop] and [RLE.CropInto]
// expand them; [Encode] and [RLE.String] write them.
//
// It is pure Go: the static yoloarchive binary decodes and checks masks
// itself, and hands them to the contours helper (package
// [github.com/yoloarchive/yoloarchive/vision/contours]) only for polygons.
// Every function is safe for concurrent use.
package mask
