// Package sync is the core shared by the tracker replays (sync/clearml,
// sync/comet): it loads an archive for replay and extracts its blobs to a
// private temporary directory, keeps a per-archive, per-destination
// checkpoint so an interrupted sync resumes where it stopped, makes HTTP
// calls with retries (exponential backoff with full jitter, honouring
// Retry-After), reports progress, and describes each archive's outcome as a
// Result for the JSON report.
//
// Import it as ysync to keep it apart from the standard library's sync.
package sync
