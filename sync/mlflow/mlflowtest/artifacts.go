package mlflowtest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// MaxArtifactBytes bounds one uploaded artifact in the fake (the real
// server streams any size to its artifact store).
const MaxArtifactBytes = 256 << 20

type entry struct {
	name  string
	isDir bool
	size  int64
}

// json is FileInfo.to_proto: file_size only for files.
func (e entry) json(p string) map[string]any {
	out := map[string]any{"path": p, "is_dir": e.isDir}
	if !e.isDir {
		out["file_size"] = e.size
	}
	return out
}

// listDir lists the direct children of dir in the artifact store ("" is
// its root), as LocalArtifactRepository.list_artifacts does: sorted, an
// absent directory empty. Call with s.mu held.
func (s *Server) listDir(dir string) []entry {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	seen := map[string]*entry{}
	for p, b := range s.artifacts {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || rest == "" {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] == nil {
			seen[name] = &entry{name: name, isDir: isDir, size: int64(len(b))}
		}
	}
	out := make([]entry, 0, len(seen))
	for _, e := range seen {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// safePath is validate_path_is_safe (mlflow/utils/uri.py): the path, URL
// decoded, relative and without "." or ".." components.
func safePath(p string) (string, *apiError) {
	dec, err := url.PathUnescape(p)
	if err != nil || filestore.ValidateArtifactPath(dec) != nil {
		return "", invalidParam("Invalid path: %s", p)
	}
	return dec, nil
}

// serveArtifacts is the artifacts proxy: PUT
// /api/2.0/mlflow-artifacts/artifacts/<path> uploads (handlers.py
// _upload_artifact), GET .../artifacts?path=<p> lists (the children's
// base names; _list_artifacts_mlflow_artifacts), GET .../artifacts/<path>
// downloads.
func (s *Server) serveArtifacts(w http.ResponseWriter, r *http.Request) {
	name := "mlflow-artifacts " + r.Method
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
	if s.NoServeArtifacts {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "Endpoint: %s disabled due to the mlflow server running with `--no-serve-artifacts`. To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`", r.URL.Path)
		return
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.EscapedPath(), ArtifactsPrefix), "/")
	switch {
	case r.Method == http.MethodPut && rest != "":
		p, e := safePath(rest)
		if e != nil {
			s.refuse(w, name, e)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxArtifactBytes+1))
		if err != nil {
			s.refuse(w, name, invalidParam("cannot read the artifact: %v", err))
			return
		}
		if len(b) > MaxArtifactBytes {
			s.refuse(w, name, invalidParam("fake server: artifact over %d bytes", MaxArtifactBytes))
			return
		}
		s.mu.Lock()
		s.artifacts[p] = b
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{})
	case r.Method == http.MethodGet && rest == "":
		dir := ""
		if q := r.URL.Query(); q.Has("path") {
			var e *apiError
			if q.Get("path") != "" {
				if dir, e = safePath(q.Get("path")); e != nil {
					s.refuse(w, name, e)
					return
				}
			}
		}
		s.mu.Lock()
		list := s.listDir(dir)
		s.mu.Unlock()
		out := map[string]any{}
		if len(list) > 0 {
			var files []map[string]any
			for _, f := range list {
				files = append(files, f.json(f.name))
			}
			out["files"] = files
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodGet:
		p, e := safePath(rest)
		if e != nil {
			s.refuse(w, name, e)
			return
		}
		s.mu.Lock()
		b, ok := s.artifacts[p]
		b = slices.Clone(b)
		s.mu.Unlock()
		if !ok {
			s.refuse(w, name, notFound("File %s does not exist", p))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", "attachment; filename="+p[strings.LastIndexByte(p, '/')+1:])
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	default:
		s.mu.Lock()
		s.invalid = append(s.invalid, name+": method not allowed on "+r.URL.Path)
		s.mu.Unlock()
		htmlError(w, http.StatusMethodNotAllowed)
	}
}
