package convert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
)

// TestSession_ReferencedFileSwappedForLink: a file a session refers to
// (an image, an artifact) is opened through the session's root. A link,
// even one to a file inside the session, is refused; and a file swapped
// for a link to a secret outside while the capture runs never has the
// secret read (the lstat and EvalSymlinks checks before it left the
// moment between the check and the read open).
func TestSession_ReferencedFileSwappedForLink(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(secret, []byte("aws_secret_access_key = SECRET"), 0o600)
	sum := sha256.Sum256([]byte("aws_secret_access_key = SECRET"))
	secretSum := hex.EncodeToString(sum[:])
	os.MkdirAll(filepath.Join(root, "data"), 0o755)
	os.WriteFile(filepath.Join(root, "data", "inside.png"), []byte("inside"), 0o644)
	newSession := func(t *testing.T) *session {
		d, err := openSrcDir(root)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return &session{r: &Run{}, root: root, dir: d, stored: map[string]archive.FileSum{}}
	}

	t.Run("LinkInside", func(t *testing.T) {
		os.Symlink("inside.png", filepath.Join(root, "data", "link.png"))
		defer os.Remove(filepath.Join(root, "data", "link.png"))
		_, _, err := newSession(t).storeFile(context.Background(), "data/link.png")
		if !errors.Is(err, errLink) {
			t.Fatalf("err = %v, want a link refused", err)
		}
	})

	t.Run("Swapped", func(t *testing.T) {
		target := filepath.Join(root, "data", "swap.png")
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; !stop.Load(); i++ {
				tmp := filepath.Join(root, "data", ".swap")
				if i%2 == 0 {
					os.Symlink(secret, tmp)
				} else {
					os.WriteFile(tmp, []byte("regular"), 0o644)
				}
				os.Rename(tmp, target)
			}
		}()
		defer func() { stop.Store(true); <-done }()
		var read, refused int
		for i := 0; i < 3000; i++ {
			got, _, err := newSession(t).storeFile(context.Background(), "data/swap.png")
			if err != nil {
				refused++
				continue
			}
			read++
			if got.SHA256 == secretSum {
				t.Fatalf("attempt %d read the secret outside the session through a link swapped in", i)
			}
		}
		t.Logf("%d read, %d refused", read, refused)
	})
}
