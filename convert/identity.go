package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// runIDVersion is mixed into every run id; changing how ids are derived
// requires a new value, never a silent change.
const runIDVersion = "yoloarchive/run-id/v1"

// identityIgnoredArgs are args.yaml keys left out of a run's identity
// because resuming the run rewrites them.
var identityIgnoredArgs = map[string]bool{"resume": true}

// runID derives a run's stable identity (schemas/FORMAT.md, "Identity"):
// the sha256 of the source kind and the run's identifying content,
// truncated to 128 bits (32 hex digits, a valid Comet experiment key).
//
//   - Ultralytics training runs: every args.yaml setting (key and text, in
//     file order) except resume. args.yaml is written once when training
//     starts, so the id is the same for a run still training, a finished
//     one, and a copy on another machine; it includes save_dir and name,
//     so two runs differ.
//   - YOLOv5 runs: the settings of opt.yaml then hyp.yaml.
//   - Directories without settings (yolo val): the names and sha256 of
//     every file, sorted.
func runID(kind string, params []schemas.ParamRow, files []fileDigest) string {
	var b strings.Builder
	b.WriteString(runIDVersion)
	b.WriteString("\x00")
	b.WriteString(kind)
	b.WriteString("\x00")
	if len(params) > 0 {
		for _, p := range params {
			if p.Section == "args" && identityIgnoredArgs[p.Key] {
				continue
			}
			b.WriteString(p.Section + "\x00" + p.Key + "\x00" + p.Type + "\x00" + p.Text + "\x00" + strings.Join(p.Items, "\x01") + "\n")
		}
	} else {
		sorted := append([]fileDigest(nil), files...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].rel < sorted[j].rel })
		for _, f := range sorted {
			b.WriteString(f.rel + "\x00" + f.digest + "\n")
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// fileDigest is a file's relative path and sha256.
type fileDigest struct {
	rel, digest string
}
