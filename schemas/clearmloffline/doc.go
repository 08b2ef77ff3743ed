// Package clearmloffline is the ClearML SDK's offline session, typed: its
// file layout, the event types of metrics.jsonl and log.jsonl as
// constants, and task.json with its hyperparameters and artifacts
// (clearml-api.md §5, the SDK's schemas). Capture (convert) reads
// sessions with these types and replay (sync/clearml) writes them, so the
// two sides cannot disagree on a name.
//
// task.json is written as the SDK's json.dump(sort_keys=True) writes it:
// the struct fields are declared in the sorted order of their JSON names.
package clearmloffline
