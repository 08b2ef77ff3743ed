package clearml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadConfigFile: any clearml.conf gives a Config or a one-line error
// naming the file, never a panic of the parser, never a hang (the fuzzer
// reports an input that does not return), and never echoes a secret.
// testdata/fuzz/FuzzReadConfigFile holds the inputs that once failed.
func FuzzReadConfigFile(f *testing.F) {
	f.Add(sampleConf)
	f.Add("api.api_server = \"http://h:8008\"\napi.credentials.secret_key = \"S3CR3T\"\n")
	f.Add("api { host = ${?CLEARML_HOST}, list = [a, b c], d = 10 s }\ninclude \"none.conf\"\n")
	f.Fuzz(func(t *testing.T, conf string) {
		path := filepath.Join(t.TempDir(), "clearml.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readConfigFile(path)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, path) || strings.Contains(msg, "\n") {
				t.Errorf("error is not one line naming the file: %q", msg)
			}
			if errors.Is(err, errParserPanic) {
				t.Errorf("the parser panicked: %s", msg)
			}
			if strings.Contains(conf, "S3CR3T") && strings.Contains(msg, "S3CR3T") {
				t.Errorf("error echoes a secret: %s", msg)
			}
		}
	})
}
