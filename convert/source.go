package convert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// ErrNotRun means a path is not a run this package can capture.
var ErrNotRun = errors.New("convert: not a run")

// Detect tells what kind of run src is: one of the schemas.Source*
// constants. It returns an error wrapping [ErrNotRun] that says what was
// looked for when src is not a run.
func Detect(src string) (string, error) {
	st, err := os.Stat(src)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s: no such file or directory", src)
		}
		return "", err
	}
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			// A FIFO would block the zip reader for ever.
			return "", fmt.Errorf("%s: %w: neither a run directory nor a zip (%s)", src, ErrNotRun, fileKind(st.Mode()))
		}
		return detectZip(src)
	}
	// A file that is there but a link or a FIFO still says what the run
	// is (its capture then records the gap); only regular files are
	// opened.
	has := func(name string) bool {
		_, err := os.Lstat(filepath.Join(src, name))
		return err == nil
	}
	if kind := detectRegistered(src); kind != "" {
		return kind, nil
	}
	switch {
	case has("args.yaml"):
		return schemas.SourceUltralyticsTrain, nil
	case has("opt.yaml") || has("hyp.yaml"):
		return schemas.SourceYOLOv5Train, nil
	case has("results.csv"):
		if p := filepath.Join(src, "results.csv"); !fileExists(p) {
			// not read: the capture records the gap
		} else if d, err := peekDialect(p); err == nil && d == DialectYOLOv5 {
			return schemas.SourceYOLOv5Train, nil
		}
		return schemas.SourceUltralyticsTrain, nil
	case has("predictions.json") || has("confusion_matrix.png") || has("val_batch0_pred.jpg"):
		return schemas.SourceUltralyticsVal, nil
	}
	if err := storeError(src); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: %w: no args.yaml, results.csv, opt.yaml or predictions.json (for a folder of runs use --recursive)", src, ErrNotRun)
}

// peekDialect reads the header line of a results.csv.
func peekDialect(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := f.Read(buf)
	line := string(buf[:n])
	for i, c := range line {
		if c == '\n' {
			line = line[:i]
			break
		}
	}
	return dialect(line, splitFields(line)), nil
}

// fileKind names a file type that is neither a directory nor a regular
// file.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
