package convert

import (
	"fmt"
	"strconv"
	"strings"
)

// version is an Ultralytics release number.
type version [3]int

// String formats the version; a patch of 999 (an upper bound meaning "any
// patch release") prints as "x".
func (v version) String() string {
	if v[2] == 999 {
		return fmt.Sprintf("%d.%d.x", v[0], v[1])
	}
	return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
}

func (v version) less(w version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// parseVersion parses "8.3.166".
func parseVersion(s string) (version, bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 {
		return version{}, false
	}
	var v version
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return version{}, false
		}
		v[i] = n
	}
	return v, true
}

var (
	firstVersion = version{8, 0, 0}
	lastKnown    = version{8, 4, 99} // versions after the spec's 8.4.41 are not ruled out
)

// versionRange narrows down the Ultralytics release that wrote a run from
// the facts its files show. Each fact raises the lower bound or lowers the
// upper bound, and is kept as evidence.
type versionRange struct {
	min, max version
	exact    *version
	evidence []string
}

func newVersionRange() *versionRange { return &versionRange{min: firstVersion, max: lastKnown} }

// atLeast records a fact that shows version >= v.
func (r *versionRange) atLeast(v version, fact string) {
	if r.min.less(v) {
		r.min = v
	}
	r.evidence = append(r.evidence, fmt.Sprintf("%s: %s or later", fact, v))
}

// atMost records a fact that shows version <= v.
func (r *versionRange) atMost(v version, fact string) {
	if v.less(r.max) {
		r.max = v
	}
	r.evidence = append(r.evidence, fmt.Sprintf("%s: %s or earlier", fact, v))
}

// consistent reports whether the facts agree (min <= max).
func (r *versionRange) consistent() bool { return !r.max.less(r.min) }

// before reports whether the version is certainly before v.
func (r *versionRange) before(v version) bool { return r.max.less(v) }

// from reports whether the version is certainly v or later.
func (r *versionRange) from(v version) bool { return !r.min.less(v) }

// argsKeyRules date an args.yaml by its key set. present: the key exists
// only from min on, or only up to max. The boundaries are the release
// where the key set changed (ultralytics-runs.md §5.4), cross-checked on
// real run directories.
var argsKeyRules = []struct {
	key     string
	added   version // zero: not a rule
	removed version // last version that has the key; zero: not a rule
}{
	{key: "line_thickness", removed: version{8, 0, 88}},
	{key: "hide_labels", removed: version{8, 0, 88}},
	{key: "line_width", added: version{8, 0, 89}},
	{key: "v5loader", removed: version{8, 0, 228}},
	{key: "boxes", removed: version{8, 0, 228}},
	{key: "save_frames", added: version{8, 0, 110}},
	{key: "stream_buffer", added: version{8, 0, 110}},
	{key: "show_boxes", added: version{8, 0, 110}},
	{key: "erasing", added: version{8, 0, 233}},
	{key: "auto_augment", added: version{8, 0, 233}},
	{key: "bgr", added: version{8, 1, 33}},
	{key: "copy_paste_mode", added: version{8, 3, 0}},
	{key: "label_smoothing", removed: version{8, 3, 37}},
	{key: "crop_fraction", removed: version{8, 3, 118}},
	{key: "save_hybrid", removed: version{8, 3, 118}},
	{key: "cutmix", added: version{8, 3, 105}},
	{key: "compile", added: version{8, 3, 196}},
	{key: "rle", added: version{8, 4, 0}},
	{key: "angle", added: version{8, 4, 0}},
	{key: "end2end", added: version{8, 4, 8}},
}

// fromArgs dates a run by its args.yaml keys. Absence counts only when the
// file looks complete (it has the keys every release writes).
func (r *versionRange) fromArgs(keys []string) {
	has := map[string]bool{}
	for _, k := range keys {
		has[k] = true
	}
	complete := has["task"] && has["mode"] && has["epochs"] && has["lr0"] && has["save_dir"] && len(keys) >= 60
	for _, rule := range argsKeyRules {
		var zero version
		switch {
		case has[rule.key] && rule.added != zero:
			r.atLeast(rule.added, "args.yaml has "+rule.key)
		case has[rule.key] && rule.removed != zero:
			r.atMost(rule.removed, "args.yaml has "+rule.key)
		case complete && !has[rule.key] && rule.added != zero:
			r.atMost(prev(rule.added), "args.yaml lacks "+rule.key)
		}
	}
}

// prev returns the release before v as far as bounds go.
func prev(v version) version {
	if v[2] > 0 {
		return version{v[0], v[1], v[2] - 1}
	}
	if v[1] > 0 {
		return version{v[0], v[1] - 1, 999}
	}
	return version{v[0] - 1, 999, 999}
}
