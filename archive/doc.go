// Package archive writes and reads yoloarchive archives: one zstd-compressed
// tar stream holding a run's Parquet tables and content-addressed blobs,
// framed by a header entry and a manifest trailer. The format is specified
// in schemas/FORMAT.md.
//
// # Writing
//
// [Create] starts an archive in a temporary file beside the destination and
// writes the header. Tables are then written in the order the header lists
// them ([WriteRows], [WriteRowsFunc]), blobs are registered with
// [Writer.AddFile], and [Writer.Close] streams the blobs in digest order,
// writes the manifest, fsyncs and renames the file into place. Until Close
// returns nil, nothing exists at the destination; [Writer.Abort] removes the
// temporary file. The same input gives byte-identical output.
//
// # Reading
//
// [NewReader] streams an archive entry by entry with bounded memory and
// verifies everything it reads: entry names, order, types, every sha256
// against the manifest and every blob against its name. [Open] makes one
// verified pass and keeps the tables for [ReadTable]; blobs are read again
// on demand with [Archive.Blobs].
package archive
