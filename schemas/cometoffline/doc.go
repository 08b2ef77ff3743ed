// Package cometoffline is the Comet SDK's offline experiment zip, typed:
// its file layout, the message types of messages.json as constants, and
// the messages and payloads themselves (comet-api.md §5, the SDK's
// offline message schemas). Capture (convert) reads zips with these
// types and replay (sync/comet) writes them, so the two sides cannot
// disagree on a name.
//
// The writer's JSON must match what the SDK writes byte for byte where
// it can (sorted keys, compact separators): the struct fields are
// therefore declared in the sorted order of their JSON names, and a field
// is omitted or written as null exactly as the SDK does.
package cometoffline
