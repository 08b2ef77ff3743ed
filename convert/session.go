package convert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/schemas"
	"github.com/yoloarchive/yoloarchive/vision/imagesize"
)

// session is what the tracker session readers share: the session's root
// on disk (a folder, or a zip extracted to a temporary folder) and the
// run being filled.
type session struct {
	r    *Run
	root string
	// dir reads the session's own files (task.json, metrics.jsonl,
	// log.jsonl, experiment.json, messages.json), never through a link.
	dir *srcDir
	// stored maps a file's path relative to root to its stored row, so
	// that a file referenced twice is stored once.
	stored map[string]archive.FileSum
	// vr holds the facts a reader found about the release that wrote
	// the session (nil: none), for DescribeArgs.
	vr *versionRange
}

// storeFile hashes a session file and adds it to the archive's blobs.
// The file is opened through the session's root (see [srcDir]): no path
// leads outside the session, not even one swapped for a link while the
// capture runs, and a link on the way (to a file inside or outside) is
// refused, never followed.
func (s *session) storeFile(ctx context.Context, rel string) (archive.FileSum, string, error) {
	p := s.dir.path(rel)
	if sum, ok := s.stored[rel]; ok {
		return sum, p, nil
	}
	f, err := s.dir.open(rel)
	if err != nil {
		return archive.FileSum{}, p, err
	}
	defer f.Close()
	sum, err := archive.HashReader(ctx, f, p)
	if err != nil {
		return archive.FileSum{}, p, err
	}
	s.stored[rel] = sum
	s.r.blobs = append(s.r.blobs, blob{sum: sum, path: p, open: s.dir.opener(rel)})
	return sum, p, nil
}

// image stores a session image and returns its row.
func (s *session) image(ctx context.Context, rel string) (schemas.ImageRow, error) {
	sum, _, err := s.storeFile(ctx, rel)
	if err != nil {
		return schemas.ImageRow{}, err
	}
	f, err := s.dir.open(rel)
	if err != nil {
		return schemas.ImageRow{}, err
	}
	defer f.Close()
	w, h, mt, err := imagesize.Read(f)
	if err != nil {
		return schemas.ImageRow{}, fmt.Errorf("%s: %w (the session's copy of the image is damaged)", s.dir.path(rel), err)
	}
	return schemas.ImageRow{Blob: sum.SHA256, FileName: rel, Name: stem(rel), Width: int32(w), Height: int32(h), MediaType: mt, Size: sum.Size}, nil
}

// asset stores a session file as an asset.
func (s *session) asset(ctx context.Context, rel, role, record string) error {
	sum, _, err := s.storeFile(ctx, rel)
	if err != nil {
		return err
	}
	s.r.Assets = append(s.r.Assets, schemas.AssetRow{Blob: sum.SHA256, Role: role, FileName: rel, Size: sum.Size, MediaType: mediaType(rel), Record: record})
	return nil
}

// sessionID is the run id of a captured tracker session: the run id a
// yoloarchive writer recorded in it, when there is one (so that an
// archive → session → archive round trip keeps its identity), else one
// derived from the session's own id.
func sessionID(kind, recorded, sessionKey string) string {
	if len(recorded) == 32 && isHex(recorded) {
		return recorded
	}
	sum := sha256.Sum256([]byte(runIDVersion + "\x00" + kind + "\x00session\x00" + sessionKey))
	return hex.EncodeToString(sum[:16])
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// recordedGaps recreates the gaps a yoloarchive replay recorded in the
// session (ClearML runtime or Comet other yoloarchive_gaps): a session
// written from an archive lacks what that archive lacked, and its single
// values are the archive's approximations when it said so.
func (r *Run) recordedGaps(list string) {
	if list == "" {
		return
	}
	have := map[string]bool{}
	for _, g := range r.Gaps {
		have[g.Item] = true
	}
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item == "" || have[item] {
			continue
		}
		have[item] = true
		r.gap(item, "recorded by the yoloarchive archive this session was replayed from (docs/gaps.md explains the item)", "")
		if item == "final_validation_metrics" {
			for i := range r.Summary {
				if r.Summary[i].Key == "fitness" || strings.HasPrefix(r.Summary[i].Key, "metrics/") {
					r.Summary[i].Exact = false
					r.Summary[i].Origin += "; approximate (replayed by yoloarchive from a run directory)"
				}
			}
		}
	}
}

// pyParam parses a value the ClearML SDK stored as Python's str() of a
// connected dict value, typed by the SDK's type name.
func pyParam(section, key string, pos int, value, typ string) schemas.ParamRow {
	row := schemas.ParamRow{Section: section, Key: key, Position: int32(pos), Text: value}
	switch typ {
	case "", "NoneType":
		if value == "" || value == "None" {
			row.Type = schemas.TypeNull
			return row
		}
	case "bool":
		if value == "True" || value == "False" {
			b := value == "True"
			row.Type, row.Bool = schemas.TypeBool, &b
			return row
		}
	case "int":
		if i, err := strconv.ParseInt(value, 10, 64); err == nil {
			row.Type, row.Int = schemas.TypeInt, &i
			return row
		}
	case "float":
		if f, err := strconv.ParseFloat(value, 64); err == nil {
			row.Type, row.Float = schemas.TypeFloat, &f
			return row
		}
	case "list", "tuple":
		if len(value) >= 2 && (value[0] == '[' && value[len(value)-1] == ']' || value[0] == '(' && value[len(value)-1] == ')') {
			row.Type = schemas.TypeList // Text keeps the SDK's str() of it
			inner := strings.TrimSpace(value[1 : len(value)-1])
			if inner != "" {
				for _, it := range strings.Split(inner, ",") {
					if it = strings.TrimSpace(it); it != "" {
						row.Items = append(row.Items, strings.Trim(it, `'"`))
					}
				}
			}
			row.ItemType = itemType(row.Items)
			return row
		}
	}
	s := value
	row.Type, row.String = schemas.TypeString, &s
	return row
}

// itemType is the type of a list's item texts, TypeMixed when they differ.
func itemType(items []string) string {
	t := ""
	for _, it := range items {
		var k string
		switch {
		case it == "True" || it == "False" || it == "true" || it == "false":
			k = schemas.TypeBool
		case it == "None" || it == "null":
			k = schemas.TypeNull
		default:
			if _, err := strconv.ParseInt(it, 10, 64); err == nil {
				k = schemas.TypeInt
			} else if _, err := strconv.ParseFloat(it, 64); err == nil {
				k = schemas.TypeFloat
			} else {
				k = schemas.TypeString
			}
		}
		if t == "" {
			t = k
		} else if t != k {
			t = schemas.TypeMixed
		}
	}
	return t
}

// describeArgs fills the run row from the callback's copy of args.yaml,
// and the version range from its keys and the facts vr already holds (nil:
// none).
func (r *Run) describeArgs(args *Params, vr *versionRange) {
	if len(args.Rows) == 0 {
		r.gap(schemas.GapSettings, "the session has no General hyperparameters (the Ultralytics callback connects the training arguments there)", "")
		if vr != nil && len(vr.evidence) > 0 {
			r.setVersion(vr)
		}
		return
	}
	r.Info.Task, r.Info.SaveDir, r.Info.Dataset = args.String("task"), args.String("save_dir"), args.String("data")
	if m := args.String("mode"); m != "" {
		r.Info.Mode = m
	}
	if e, ok := args.Int("epochs"); ok {
		r.Info.EpochsPlanned = &e
	}
	if b, ok := args.Int("batch"); ok && b > 0 {
		r.Info.Batch = &b
	}
	if r.Info.Name == "" {
		r.Info.Name = args.String("name")
	}
	if _, ok := args.Get("task"); ok && r.Info.Producer == "" {
		if _, ok := args.Get("mode"); ok {
			r.Info.Producer = schemas.ProducerUltralytics
		}
	}
	if vr == nil {
		vr = newVersionRange()
	}
	vr.fromArgs(args.Keys())
	r.setVersion(vr)
}

// readSession reads the session of kind at src (a folder or a zip) into
// a Run.
func readSession(ctx context.Context, src, kind string, opts Options) (*Run, error) {
	root, extracted := src, false
	if st, err := os.Stat(src); err == nil && !st.IsDir() {
		dir, err := extractZip(ctx, src, ZipLimitsOf(archive.BudgetFrom(ctx)))
		if err != nil {
			return nil, err
		}
		root, extracted = dir, true
	} else if rd, _ := reader(kind); rd.Root != nil {
		root = rd.Root(src)
	}
	d, err := openSrcDir(root)
	if err != nil {
		if extracted {
			scratch.Remove(root)
		}
		return nil, err
	}
	cleanup := func() { d.Close() }
	if extracted {
		cleanup = func() { d.Close(); scratch.Remove(root) }
	}
	return readSessionDir(ctx, src, kind, opts, d, extracted, cleanup)
}

// ReadFS reads the session of kind (a schemas.Source* value of a
// registered [Reader] whose FS is set: ClearML's and Comet's) held in fsys, as [Read] reads a session folder: name is the
// session's folder or zip, which the run and every message name. fsys
// is read through its Lstat, so that a link in it is refused as on
// disk; a test reads a session held in memory (fstest.MapFS) with it.
func ReadFS(ctx context.Context, fsys fs.ReadLinkFS, name, kind string, opts Options) (*Run, error) {
	if rd, ok := reader(kind); !ok || !rd.FS {
		return nil, fmt.Errorf("%s: %w: %q is not a kind of session read from a tree in memory", name, ErrNotRun, kind)
	}
	return readSessionDir(ctx, name, kind, opts.withDefaults(), memDir(name, fsys), false, nil)
}

// readSessionDir reads the session of kind whose files d holds; src is
// what was given, and extracted says d is the extraction folder of the
// zip src. cleanup (nil: none) runs when the run is closed, and at once
// when the read fails.
func readSessionDir(ctx context.Context, src, kind string, opts Options, d *srcDir, extracted bool, cleanup func()) (r *Run, err error) {
	r = &Run{Source: src, opts: opts, cleanup: cleanup}
	r.Info.SourceKind = kind
	r.Info.SourceName = filepath.Base(filepath.Clean(src))
	run := r
	defer func() {
		if err != nil {
			run.Close()
		}
	}()
	// The blobs are read again through d when the archive is written: it
	// stays open until the run is closed (cleanup closes it).
	s := &session{r: r, root: d.dir, dir: d, stored: map[string]archive.FileSum{}}
	if rd, ok := reader(kind); ok {
		err = rd.Read(ctx, &Session{s: s})
	} else {
		err = fmt.Errorf("%w: no reader of %q sessions is registered", ErrNotRun, kind)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Name the session, and its entries rather than the private
		// extraction folder: "run.zip/task.json: is a directory".
		msg := err.Error()
		if extracted {
			msg = strings.ReplaceAll(msg, d.dir, src)
		}
		if !strings.Contains(msg, src) {
			msg = src + ": " + msg
		}
		return nil, errors.New(msg)
	}
	return r, nil
}

// Close removes what reading the run left on disk (a session zip's
// extraction folder). Write needs it, so Close comes after Write.
func (r *Run) Close() error {
	if r.dir != nil {
		r.dir.Close()
		r.dir = nil
	}
	if r.cleanup != nil {
		r.cleanup()
		r.cleanup = nil
	}
	return nil
}
