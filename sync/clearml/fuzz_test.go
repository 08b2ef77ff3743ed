package clearml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadConfigFile: any clearml.conf gives a Config or a one-line error
// naming the file, never a panic, and never echoes a secret.
func FuzzReadConfigFile(f *testing.F) {
	f.Add(sampleConf)
	f.Add("api.api_server = \"http://h:8008\"\napi.credentials.secret_key = \"S3CR3T\"\n")
	f.Fuzz(func(t *testing.T, conf string) {
		path := filepath.Join(t.TempDir(), "clearml.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readConfigFile(path)
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error does not name the file: %s", msg)
			}
			if strings.Contains(conf, "S3CR3T") && strings.Contains(msg, "S3CR3T") {
				t.Errorf("error echoes a secret: %s", msg)
			}
		}
	})
}
