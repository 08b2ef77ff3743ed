package convert

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/yoloarchive/yoloarchive/archive/scratch"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// File is one regular file of a source directory, classified.
type File struct {
	// Rel is the path relative to the source directory, "/"-separated.
	Rel string
	// Path is the path on disk.
	Path string
	// Size is the file's size when it was listed.
	Size int64
	// Image is true for image files; Role is then an image role, else an
	// asset role.
	Image bool
	Role  string
	// Step is N of train_batch{N}.jpg and val_batch{N}_*.jpg.
	Step *int64
}

var (
	trainBatchRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^train_batch(\d+)\.jpg$`) })
	valBatchRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^val_batch(\d+)_(labels|pred)\.jpg$`) })
	curveRe      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(Box|Mask|Pose)?(PR|F1|P|R)_curve\.png$`) })
	epochPtRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^weights/epoch\d+\.pt$`) })
)

// imageExts are the extensions treated as images (Ultralytics' IMG_FORMATS
// that Go can read headers of).
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".bmp": true,
	".webp": true, ".tif": true, ".tiff": true,
}

// classifyFile returns the role of a file by its path relative to the run
// directory.
func classifyFile(rel string) File {
	f := File{Rel: rel}
	base := path.Base(rel)
	top := !strings.Contains(rel, "/")
	if imageExts[strings.ToLower(path.Ext(rel))] {
		f.Image = true
		f.Role = schemas.RoleOtherImage
		if !top {
			return f
		}
		if m := trainBatchRe().FindStringSubmatch(base); m != nil {
			f.Role, f.Step = schemas.RoleTrainBatch, atoiPtr(m[1])
		} else if m := valBatchRe().FindStringSubmatch(base); m != nil {
			f.Role, f.Step = schemas.RoleValBatchLabels, atoiPtr(m[1])
			if m[2] == "pred" {
				f.Role = schemas.RoleValBatchPred
			}
		} else if curveRe().MatchString(base) {
			f.Role = schemas.RoleCurve
		} else {
			switch base {
			case "confusion_matrix.png":
				f.Role = schemas.RoleConfusionMatrix
			case "confusion_matrix_normalized.png":
				f.Role = schemas.RoleConfusionMatrixNorm
			case "labels.jpg":
				f.Role = schemas.RoleLabels
			case "labels_correlogram.jpg":
				f.Role = schemas.RoleLabelsCorrelogram
			case "results.png":
				f.Role = schemas.RoleResultsPlot
			}
		}
		return f
	}
	f.Role = schemas.RoleOther
	switch {
	case rel == "results.csv":
		f.Role = schemas.RoleResultsCSV
	case rel == "args.yaml":
		f.Role = schemas.RoleArgsYAML
	case rel == "predictions.json":
		f.Role = schemas.RolePredictionsJSON
	case rel == "hyp.yaml":
		f.Role = schemas.RoleHypYAML
	case rel == "opt.yaml":
		f.Role = schemas.RoleOptYAML
	case rel == "weights/best.pt":
		f.Role = schemas.RoleWeightsBest
	case rel == "weights/last.pt":
		f.Role = schemas.RoleWeightsLast
	case epochPtRe().MatchString(rel):
		f.Role = schemas.RoleWeightsEpoch
	case strings.HasPrefix(base, "events.out.tfevents."):
		f.Role = schemas.RoleTensorBoard
	}
	return f
}

func atoiPtr(s string) *int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

// isOwnFile reports whether a file name is one yoloarchive itself writes
// while capturing (temporary archives, spools), which a capture of a
// directory must not pick up.
func isOwnFile(base string) bool {
	return scratch.IsName(base) || strings.HasPrefix(base, ".yoloarchive-") ||
		(strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".tmp") && strings.Contains(base, ".tar.zst."))
}

// listFiles walks a run directory and returns its regular files sorted
// by relative path. Symbolic links and other non-regular files are not
// followed (a linked folder is not descended); they are returned as
// skipped, with the reason.
func listFiles(d *srcDir) (files []File, skipped []string, err error) {
	err = d.walk(func(rel string, e fs.DirEntry, err error) error {
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s (unreadable: %v)", rel, underlying(err)))
			return nil
		}
		if e.IsDir() {
			return nil
		}
		if isOwnFile(e.Name()) {
			return nil
		}
		if !e.Type().IsRegular() {
			kind := errNotRegular.Error()
			if e.Type()&fs.ModeSymlink != 0 {
				kind = errLink.Error()
			}
			skipped = append(skipped, rel+" ("+kind+")")
			return nil
		}
		info, err := e.Info()
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s (unreadable: %v)", rel, underlying(err)))
			return nil
		}
		f := classifyFile(rel)
		f.Path = d.path(rel)
		f.Size = info.Size()
		files = append(files, f)
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Rel < files[j].Rel })
	return files, skipped, err
}

// mediaType returns the MIME type of a non-image file by extension.
func mediaType(rel string) string {
	switch strings.ToLower(path.Ext(rel)) {
	case ".csv":
		return "text/csv"
	case ".yaml", ".yml":
		return "application/yaml"
	case ".json":
		return "application/json"
	case ".txt", ".log":
		return "text/plain"
	case ".pt", ".pth":
		return "application/x-pytorch"
	case ".onnx":
		return "application/onnx"
	}
	return "application/octet-stream"
}

// stem returns a file name without directory and extension.
func stem(p string) string {
	b := path.Base(p)
	return strings.TrimSuffix(b, path.Ext(b))
}

// fileExists reports whether p is an existing regular file, itself not
// a symbolic link (a folder above it may be one).
func fileExists(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode().IsRegular()
}

// dirExists reports whether p is an existing directory.
func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
