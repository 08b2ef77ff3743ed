package archive_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
)

// TestHashFileContext: hashing stops when the context is done (Ctrl-C
// during the capture of a checkpoint of gigabytes), and gives HashFile's
// sum otherwise.
func TestHashFileContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "last.pt")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := archive.HashFileContext(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	a, err := archive.HashFileContext(context.Background(), p)
	b, _ := archive.HashFile(p)
	if err != nil || a != b || a.Size != 1<<20 {
		t.Errorf("%+v, %v; HashFile %+v", a, err, b)
	}
}
