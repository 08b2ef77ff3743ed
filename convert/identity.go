package convert

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// runIDVersion prefixes the ids of tracker sessions and of directories
// without settings or results (yolo val): their derivation has not changed
// since v1, so they keep their ids.
const runIDVersion = "yoloarchive/run-id/v1"

// IDScheme names how this yoloarchive derives run ids (schemas/FORMAT.md
// §7). Changing a derivation requires a new value, never a silent change:
// v2 added the first results.csv row to a training run's identity, so
// that runs with the same settings are no longer one run.
const IDScheme = "yoloarchive/run-id/v2"

// volatileSettings are the settings a resumed run may rewrite in its
// settings file, per section: they are left out of its identity, so that
// a resumed run keeps its id.
//
// Ultralytics' check_resume (engine/trainer.py, 8.0 to 8.4) replaces
// every setting with the checkpoint's train_args, which hold the values
// training changed at run time (batch after AutoBatch or an out-of-memory
// retry, imgsz rounded to the stride, workers 0 on CPU, warmup_bias_lr 0
// under optimizer=auto, epochs under time=), sets model and resume to
// last.pt, keeps the new data setting when the old path is gone, and
// takes again any of a list of settings given with resume=True. YOLOv5's
// train.py sets cfg, weights and resume (and data from a URL) in opt.yaml.
var volatileSettings = map[string]map[string]bool{
	"args": {
		"resume": true, "model": true, "data": true,
		"batch": true, "imgsz": true, "workers": true, "warmup_bias_lr": true, "compile": true,
		"device": true, "close_mosaic": true, "augmentations": true, "save_period": true, "cache": true,
		"patience": true, "time": true, "freeze": true, "val": true, "plots": true, "channels_last": true,
		"distill_model": true, "save_dir": true,
	},
	"opt": {"resume": true, "cfg": true, "weights": true, "data": true},
}

// volatile reports whether a setting is left out of the identity.
func volatile(p schemas.ParamRow, timed bool) bool {
	keys := volatileSettings[p.Section]
	top, _, _ := strings.Cut(p.Key, ".")
	if keys[top] {
		return true
	}
	// Training for a time (time=hours) sets epochs from the epoch time.
	return timed && p.Section == "args" && p.Key == "epochs"
}

// trainRunID derives the id of a training run directory that has at
// least one results.csv row: the settings that a resume does not rewrite,
// then the header and first data row of results.csv. Ultralytics and
// YOLOv5 only append to results.csv (a resume appends again; a new
// training in the same directory deletes it first), so the first row never
// changes once written, and it holds the first epoch's losses and metrics
// (and, since 8.3.9, the seconds it took): runs with the same settings
// differ there.
func trainRunID(kind string, params []schemas.ParamRow, columns []string, first ResultsRow) string {
	timed := false
	for _, p := range params {
		if p.Section == "args" && p.Key == "time" && ((p.Float != nil && *p.Float > 0) || (p.Int != nil && *p.Int > 0)) {
			timed = true
		}
	}
	var b strings.Builder
	b.WriteString(IDScheme + "\x00" + kind + "\x00settings\n")
	for _, p := range params {
		if volatile(p, timed) {
			continue
		}
		b.WriteString(p.Section + "\x00" + p.Key + "\x00" + p.Type + "\x00" + p.Text + "\x00" + strings.Join(p.Items, "\x01") + "\n")
	}
	b.WriteString("\x00results\n" + strings.Join(columns, "\x00") + "\n")
	b.Write(rowBytes(first))
	return sum128(b.String())
}

// filesRunID derives the id of a source from its files: every file's
// relative path and sha256, sorted by path. A yolo val directory keeps
// its v1 id; a training run without any results.csv row yet gets a v2 id.
func filesRunID(version, kind string, files []fileDigest) string {
	var b strings.Builder
	b.WriteString(version + "\x00" + kind + "\x00")
	if version != runIDVersion {
		b.WriteString("files\n")
	}
	sorted := append([]fileDigest(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].rel < sorted[j].rel })
	for _, f := range sorted {
		b.WriteString(f.rel + "\x00" + f.digest + "\n")
	}
	return sum128(b.String())
}

// forkRunID derives the id of a run that shares its id with a different
// run captured in the same batch (see [Plan]): the shared id and the
// digests of its first n results rows, which no other run of the batch
// has.
func forkRunID(shared string, rows []rowDigest) string {
	var b strings.Builder
	b.WriteString(IDScheme + "\x00fork\x00" + shared + "\n")
	for _, r := range rows {
		b.Write(r[:])
	}
	return sum128(b.String())
}

// runID derives a run's id from what Read found (schemas/FORMAT.md §7):
// settings and first results row for a training run that has one, its
// files otherwise.
func runID(kind string, params []schemas.ParamRow, res *Results, first *ResultsRow, files []fileDigest) string {
	switch {
	case kind == schemas.SourceUltralyticsVal:
		return filesRunID(runIDVersion, kind, files)
	case res != nil && first != nil:
		return trainRunID(kind, params, res.Columns, *first)
	}
	return filesRunID(IDScheme, kind, files)
}

// rowBytes encodes a results row: its epoch as written and each value's
// IEEE bits, so that the same numbers written with other padding or line
// endings encode alike.
func rowBytes(r ResultsRow) []byte {
	out := make([]byte, 0, 8*(len(r.Values)+1))
	out = binary.BigEndian.AppendUint64(out, uint64(r.CSVEpoch))
	for _, v := range r.Values {
		out = binary.BigEndian.AppendUint64(out, math.Float64bits(v))
	}
	return out
}

// rowDigest identifies one results row.
type rowDigest [16]byte

func digestRows(rows []ResultsRow) []rowDigest {
	out := make([]rowDigest, len(rows))
	for i, r := range rows {
		s := sha256.Sum256(rowBytes(r))
		copy(out[i][:], s[:16])
	}
	return out
}

// sum128 is the first 128 bits of the sha256 of s, as 32 hex digits (a
// valid Comet experiment key).
func sum128(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// fileDigest is a file's relative path and sha256.
type fileDigest struct {
	rel, digest string
}
