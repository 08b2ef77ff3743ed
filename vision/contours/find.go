package contours

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Name is the helper executable's file name.
const Name = "yoloarchive-contours"

// Environment variables read by [Default].
const (
	// EnvPath names the helper executable to use instead of looking for
	// it beside the running binary and on PATH.
	EnvPath = "YOLOARCHIVE_CONTOURS"
	// EnvTimeout is how long the helper may go without answering while
	// masks wait (a Go duration such as "90s"; default [DefaultTimeout]).
	EnvTimeout = "YOLOARCHIVE_CONTOURS_TIMEOUT"
)

// DefaultTimeout is how long a helper may go without answering while
// masks wait before it is taken for hung and killed. A 640×640 mask takes
// well under a millisecond; the largest allowed (2^28 pixels) about a
// second.
const DefaultTimeout = 60 * time.Second

// ErrNotFound is returned when no helper executable can be found.
var ErrNotFound = errors.New("contours: the " + Name + " helper (OpenCV) is not installed")

// Find returns the helper executable to run: $YOLOARCHIVE_CONTOURS when it
// is set, else yoloarchive-contours beside the running executable (after
// resolving symbolic links), else yoloarchive-contours on PATH. Its error
// wraps [ErrNotFound] and says where it looked.
func Find() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		st, err := os.Stat(p)
		switch {
		case err != nil:
			return "", fmt.Errorf("%w: $%s names %s: %v", ErrNotFound, EnvPath, p, errors.Unwrap(err))
		case st.IsDir() || st.Mode().Perm()&0o111 == 0:
			return "", fmt.Errorf("%w: $%s names %s, which is not an executable file", ErrNotFound, EnvPath, p)
		}
		return p, nil
	}
	var beside string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		beside = filepath.Join(filepath.Dir(exe), Name)
		if st, err := os.Stat(beside); err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0 {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(Name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: not in $%s, not beside this program (%s), not on PATH", ErrNotFound, EnvPath, beside)
}

var (
	defaultOnce   sync.Once
	defaultHelper *Helper
)

// FromEnv returns a new Helper configured by the environment: the
// executable by [Find] ($YOLOARCHIVE_CONTOURS first), the timeout by
// $YOLOARCHIVE_CONTOURS_TIMEOUT. Nothing is looked for or started until a
// mask needs polygons; a malformed timeout is reported then.
func FromEnv() *Helper {
	var c Config
	if s := os.Getenv(EnvTimeout); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			c.configErr = fmt.Errorf("contours: $%s=%q is not a positive duration such as 90s", EnvTimeout, s)
		}
		c.Timeout = d
	}
	return New(c)
}

// Default returns the process's shared helper, made by [FromEnv] on first
// use.
func Default() *Helper {
	defaultOnce.Do(func() { defaultHelper = FromEnv() })
	return defaultHelper
}
