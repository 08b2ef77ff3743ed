// Package schemas is the vocabulary every other yoloarchive package shares:
// the row types of the archive's Parquet tables, the table names, the format
// version, and the JSON Schemas of the archive's header and manifest.
//
// # Overview
//
// An archive (see FORMAT.md in this directory) holds one run. Its tables are
// Parquet files whose columns are defined by the struct tags of the row types
// below: [RunRow], [ScalarRow], [ParamRow], [SummaryRow], [ImageRow],
// [AnnotationRow], [AssetRow] and [GapRow]. Nullable columns are pointer
// fields tagged "optional". Lists are Parquet LIST columns, never JSON text.
//
// The package has no dependencies besides parquet-go, so that readers of the
// format (exporters, tests, other tools) can use it without pulling in the
// capture or sync code.
package schemas
