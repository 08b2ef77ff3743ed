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
		return "", fmt.Errorf("%s: %w: only run directories can be captured (Comet and ClearML offline sessions are not supported yet)", src, ErrNotRun)
	}
	has := func(name string) bool { return fileExists(filepath.Join(src, name)) }
	switch {
	case has("args.yaml"):
		return schemas.SourceUltralyticsTrain, nil
	case has("opt.yaml") || has("hyp.yaml"):
		return schemas.SourceYOLOv5Train, nil
	case has("results.csv"):
		if d, err := peekDialect(filepath.Join(src, "results.csv")); err == nil && d == DialectYOLOv5 {
			return schemas.SourceYOLOv5Train, nil
		}
		return schemas.SourceUltralyticsTrain, nil
	case has("predictions.json") || has("confusion_matrix.png") || has("val_batch0_pred.jpg"):
		return schemas.SourceUltralyticsVal, nil
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
