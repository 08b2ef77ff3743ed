package comet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadINI: any .comet.config gives a Config or a one-line error
// naming the file, never a panic or a hang, and never echoes the key.
// testdata/fuzz/FuzzReadINI holds the inputs that once failed.
func FuzzReadINI(f *testing.F) {
	f.Add("[comet]\napi_key = S3CR3T\nworkspace = ws\n")
	f.Add("[comet\napi_key = S3CR3T\n")
	f.Fuzz(func(t *testing.T, conf string) {
		path := filepath.Join(t.TempDir(), ".comet.config")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readINI(path)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, path) || strings.Contains(msg, "\n") {
				t.Errorf("error: %q", msg)
			}
			if strings.Contains(conf, "S3CR3T") && strings.Contains(msg, "S3CR3T") {
				t.Errorf("error echoes the key: %s", msg)
			}
		}
	})
}
