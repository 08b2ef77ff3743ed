package clearml

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
	ysync "github.com/yoloarchive/yoloarchive/sync"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
)

// Offline writes ClearML offline sessions, in the layout the ClearML SDK
// writes with Task.set_offline(True), for `clearml-task
// --import-offline-session` (or Task.import_offline_session) on a machine
// that can reach the server: a folder offline-<id>/ with task.json,
// metrics.jsonl, log.jsonl and data/, and the same as offline-<id>.zip.
type Offline struct {
	dir  string // absolute: task.json records the session's folder
	out  string // as given, for messages
	opts ysync.Options
}

var _ ysync.Writer = (*Offline)(nil)

// NewOffline returns an Offline writing under dir.
func NewOffline(dir string, opts ysync.Options) *Offline {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return &Offline{dir: abs, out: dir, opts: opts}
}

// Destination names the output directory.
func (o *Offline) Destination() string { return "clearml-offline:" + o.dir }

// Tracker is "clearml".
func (o *Offline) Tracker() string { return "clearml" }

// OfflineID is the session's task id for a run: "offline-" and 32 hex
// digits derived from the run id, so that writing a run twice gives the
// same session.
func OfflineID(runID string) string {
	h := md5.Sum([]byte("yoloarchive-clearml-offline:" + runID))
	return "offline-" + hex.EncodeToString(h[:])
}

// Plan counts what Sync would write.
func (o *Offline) Plan(ctx context.Context, run *ysync.Run) (*ysync.Plan, error) {
	p, err := o.plan(ctx, run, filepath.Join(o.dir, OfflineID(run.RunID())))
	if err != nil {
		return nil, err
	}
	counts, err := p.count(ctx)
	if err != nil {
		return nil, err
	}
	return &counts, nil
}

func (o *Offline) plan(ctx context.Context, run *ysync.Run, folder string) (*plan, error) {
	return buildPlan(ctx, run, o.opts, OfflineID(run.RunID()), addressing{localData: filepath.ToSlash(filepath.Join(folder, clearmloffline.DirData))})
}

// Write writes the run's session folder and zip. Both appear complete or
// not at all: they are built under temporary names and renamed.
func (o *Offline) Write(ctx context.Context, run *ysync.Run, st *ysync.State, task *ysync.Task, res *ysync.Result) error {
	if !run.Final() {
		// An offline export ends its run: written now, it would stand
		// for the whole run, and a second one after the final link
		// would make a second run on upload.
		return fmt.Errorf("%s: the run was captured while still training (a chain without its final link, or a compaction of one): offline exports are written from the final link; sync to a server to see progress, or, if training stopped for good, capture the run directory again (status interrupted) and export that", run.Path)
	}
	id := OfflineID(run.RunID())
	folder := filepath.Join(o.dir, id)
	p, err := o.plan(ctx, run, folder)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o777); err != nil {
		return err
	}
	tmp, err := scratch.Mkdir(o.dir, id)
	if err != nil {
		return err
	}
	defer scratch.Remove(tmp)
	if err := os.Chmod(tmp, scratch.DirMode()); err != nil {
		return err
	}
	task.Stage("write", 0)
	if err := o.writeSession(ctx, run, p, id, folder, tmp); err != nil {
		return err
	}
	zipFile, err := scratch.Create(o.dir, id+".zip")
	if err != nil {
		return err
	}
	zipFile.Close()
	zipTmp := zipFile.Name()
	defer scratch.Remove(zipTmp)
	if err := zipFolder(ctx, tmp, zipTmp); err != nil {
		return err
	}
	if err := os.Chmod(zipTmp, scratch.FileMode()); err != nil {
		return err
	}
	// Replace an earlier session of the same run: the folder and the zip
	// together, never one without the other.
	err = scratch.Critical(func() error {
		if err := os.RemoveAll(folder); err != nil {
			return err
		}
		if err := os.Rename(tmp, folder); err != nil {
			return err
		}
		scratch.Release(tmp)
		if err := os.Rename(zipTmp, folder+".zip"); err != nil {
			return err
		}
		scratch.Release(zipTmp)
		return nil
	})
	if err != nil {
		return err
	}
	res.Status, res.Output, res.RemoteID = ysync.StatusWritten, filepath.Join(o.out, id+".zip"), id
	return nil
}

func (o *Offline) writeSession(ctx context.Context, run *ysync.Run, p *plan, id, folder, tmp string) error {
	var digests []string
	for _, u := range p.Uploads {
		digests = append(digests, u.Digest)
	}
	if p.Model != nil {
		digests = append(digests, p.Model.Digest)
	}
	blobs, err := run.Extract(ctx, dedupe(digests))
	if err != nil {
		return err
	}
	defer blobs.Close()
	data := filepath.Join(tmp, clearmloffline.DirData)
	put := func(key string, u upload) error {
		dst := filepath.Join(data, filepath.FromSlash(key))
		if !strings.HasPrefix(dst, data+string(filepath.Separator)) {
			return fmt.Errorf("%s: key %q leaves the session folder", run.Path, key)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
			return err
		}
		if strings.HasPrefix(u.ContentType, "convert:") {
			f, err := blobs.Open(u.Digest)
			if err != nil {
				return err
			}
			b, err := toPNG(f, archive.BudgetFrom(ctx))
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: converting %s to PNG: %v", run.Path, key, err)
			}
			return os.WriteFile(dst, b, 0o666)
		}
		return copyFile(ctx, blobs.Path(u.Digest), dst)
	}
	for _, u := range p.Uploads {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := put(u.Key, u); err != nil {
			return err
		}
	}
	task := clearmloffline.Task{
		ID: id, Name: p.Name, ProjectName: p.Project, Type: "training", Tags: p.Tags,
		SystemTags: []string{RunTagPrefix + run.RunID()}, Comment: p.Comment, Runtime: runtimeJSON(p.Runtime),
		OfflineFolder: folder, OfflineOutputModels: []json.RawMessage{}, Hyperparams: p.Hyperparams,
	}
	if p.Model != nil {
		// The importer opens offline_output_models' weights at their
		// absolute path on the importing machine (clearml#1133); an
		// artifact inside data/ travels with the session instead.
		key := strings.TrimSuffix(p.Model.Key, "/models/"+path.Base(p.Model.Key)) + "/artifacts/" + path.Base(p.Model.Key) + "/" + path.Base(p.Model.Key)
		if err := put(key, *p.Model); err != nil {
			return err
		}
		task.Execution = &clearmloffline.Execution{Artifacts: []clearmloffline.Artifact{{
			Key: path.Base(p.Model.Key), Type: "custom", Mode: "output",
			URI:         filepath.ToSlash(filepath.Join(folder, clearmloffline.DirData)) + "/" + key,
			ContentSize: p.Model.Size, Timestamp: p.End.Unix(),
			TypeData: &clearmloffline.TypeData{ContentType: "application/octet-stream", Preview: "weights/best.pt of the run"},
		}}}
	}
	if err := writeJSONFile(filepath.Join(tmp, clearmloffline.FileTask), task); err != nil {
		return err
	}
	// metrics.jsonl: one JSON array of events per line (one HTTP call per
	// line at import), lines kept far below the SDK's 15 MiB split,
	// written as the events are generated.
	le := newLineEncoder(p.task)
	if err := writeLines(ctx, filepath.Join(tmp, clearmloffline.FileMetrics), le, p.each); err != nil {
		return err
	}
	// log.jsonl: the console log of a captured session; a run directory
	// has none (gap console_and_system).
	return writeLines(ctx, filepath.Join(tmp, clearmloffline.FileLog), le, p.eachLog)
}

// writeLines writes the events of gen to the file name as the SDK's
// offline session does: one JSON array of up to 4 MiB of events a line.
func writeLines(ctx context.Context, name string, le *lineEncoder, gen generator) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = batchLines(ctx, le, gen, 4<<20, false, func(body []byte, _ int) error {
		w.WriteByte('[')
		body = bytes.TrimRight(body, "\n")
		for {
			line, rest, more := bytes.Cut(body, []byte("\n"))
			w.Write(line)
			if !more {
				break
			}
			w.WriteString(", ")
			body = rest
		}
		_, err := w.WriteString("]\n")
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runtimeJSON is a task's runtime properties as task.json holds them
// (nil stays null).
func runtimeJSON(m map[string]string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// writeJSONFile writes v as Python's json.dump(..., ensure_ascii=True,
// sort_keys=True) would: sorted keys (Go's maps marshal sorted) and ASCII.
func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		if r < 0x80 {
			out.WriteRune(r)
		} else if r <= 0xFFFF {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		}
	}
	return os.WriteFile(path, out.Bytes(), 0o666)
}

// copyFile copies src to dst, stopping when ctx is cancelled.
func copyFile(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, archive.ContextReader(ctx, in)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// zipFolder zips every file under dir, names relative to it (task.json at
// the root), deflated, fsynced.
func zipFolder(ctx context.Context, dir, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, archive.ContextReader(ctx, in))
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
