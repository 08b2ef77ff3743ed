// Package convert turns what a training run left on disk into the tables
// and blobs of a yoloarchive archive.
//
// # Overview
//
// [Capture] is the entry point: it inspects a source ([Detect]), reads it
// into a [Run] (results.csv, args.yaml, images, weights, predictions.json,
// the dataset's validation labels), and writes the archive with package
// archive. The readers of each file are exported for reuse and testing:
// [ParseResults] for every results.csv dialect Ultralytics and YOLOv5 have
// written, [ParseParams] for args.yaml, hyp.yaml and opt.yaml, and
// [ReadPredictions] for predictions.json.
//
// Whatever a live tracker callback would have logged but the run did not
// leave on disk is recorded as a gap (schemas.GapRow), never dropped
// silently.
package convert
