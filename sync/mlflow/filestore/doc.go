// Package filestore reads and writes an MLflow file store (the mlruns/
// directory that `mlflow ui --backend-store-uri DIR` shows) exactly as
// MLflow's FileStore (mlflow/store/tracking/file_store.py) lays it out:
//
//	<root>/<experiment id>/meta.yaml              experiment
//	<root>/<experiment id>/<run id>/meta.yaml     run info, numeric status
//	<root>/<experiment id>/<run id>/metrics/<key> "<ts ms> <value> <step>" lines
//	<root>/<experiment id>/<run id>/params/<key>  the value, no newline
//	<root>/<experiment id>/<run id>/tags/<key>    the value, no newline
//	<root>/<experiment id>/<run id>/artifacts/... the artifact files
//
// A key holding "/" is a sub-directory ("metrics/train/box_loss"). Keys
// follow MLflow's rules (mlflow/utils/validation.py): alphanumerics, "_",
// "-", ".", " " and "/", at most 250 characters, and no name that
// normalises to another ("a//b", "./a", "../a", "/a").
//
// Writes are atomic per file (a temporary file renamed into place) and
// refuse names that would leave the store. Reads refuse symbolic links
// and names that leave the store, and are bounded by [Limits], because a
// store read for capture is untrusted input. Of the rest of the project
// the package imports only sync/pyfmt (standard library only), so capture
// and replay can both use it.
package filestore
