package filestore

import (
	"fmt"
	"path"
	"strings"
	"unicode"
)

// MLflow's limits (mlflow/utils/validation.py).
const (
	// MaxKeyLength is MAX_ENTITY_KEY_LENGTH: the longest metric, param or
	// tag key.
	MaxKeyLength = 250
	// MaxParamValueLength is MAX_PARAM_VAL_LENGTH (MLflow 2.x; 500 in 1.x).
	MaxParamValueLength = 6000
	// MaxTagValueLength is MAX_TAG_VAL_LENGTH.
	MaxTagValueLength = 5000
	// MaxExperimentNameLength is MAX_EXPERIMENT_NAME_LENGTH.
	MaxExperimentNameLength = 500
)

// ValidateKey checks a metric, param or tag key (what names the kind in
// the error) as MLflow's _validate_metric_name, _validate_param_name and
// _validate_tag_name do, plus the length limit of _validate_metric and
// _validate_param: the characters of _VALID_PARAM_AND_METRIC_NAMES
// (r"^[/\w.\- ]*$"; Python's \w is "_" and what str.isalnum accepts:
// Unicode letters and numbers), and no name that
// path_not_unique refuses (one that posixpath.normpath changes, ".", or
// one starting with ".." or "/").
func ValidateKey(what, key string) error {
	for _, r := range key {
		if !(r == '/' || r == '.' || r == '-' || r == ' ' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)) {
			return fmt.Errorf("invalid %s name: %q: names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/)", what, key)
		}
	}
	if pathNotUnique(key) {
		return fmt.Errorf("invalid %s name: %q: names may be treated as files and must not resolve to other names (this one resolves to %q)", what, key, path.Clean(key))
	}
	if n := len([]rune(key)); n > MaxKeyLength {
		return fmt.Errorf("%s name %.50q… has length %d, which exceeds the limit of %d", what, key, n, MaxKeyLength)
	}
	return nil
}

// pathNotUnique is validation.py's path_not_unique. posixpath.normpath
// differs from path.Clean only in keeping a leading "//", which the
// "/" prefix test refuses anyway, and in normalising "" to ".".
func pathNotUnique(name string) bool {
	norm := path.Clean(name)
	return norm != name || norm == "." || strings.HasPrefix(norm, "..") || strings.HasPrefix(norm, "/")
}

// ValidateRunID checks a run id as _validate_run_id does
// (r"^[a-zA-Z0-9][\w\-]{0,255}$", ASCII here since the ids this package
// makes and reads are names of directories it trusts only when plain).
func ValidateRunID(id string) error {
	if !plainID(id, 256) {
		return fmt.Errorf("invalid run ID: %q", id)
	}
	return nil
}

// ValidateExperimentID checks an experiment id as _validate_experiment_id
// does (r"^[a-zA-Z0-9][\w\-]{0,63}$").
func ValidateExperimentID(id string) error {
	if !plainID(id, 64) {
		return fmt.Errorf("invalid experiment ID: %q", id)
	}
	return nil
}

func plainID(id string, n int) bool {
	if id == "" || len(id) > n {
		return false
	}
	for i, r := range id {
		alnum := r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !alnum && (i == 0 || (r != '_' && r != '-')) {
			return false
		}
	}
	return true
}

// ValidateArtifactPath checks an artifact's path relative to the run's
// artifact root, as MLflow's validate_path_is_safe does: relative,
// "/"-separated, no "." or ".." component, no backslash or NUL.
func ValidateArtifactPath(p string) error {
	if p == "" || strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
		return fmt.Errorf("invalid artifact path %q: must be a relative path", p)
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("invalid artifact path %q: must not hold empty, \".\" or \"..\" components", p)
		}
	}
	return nil
}
