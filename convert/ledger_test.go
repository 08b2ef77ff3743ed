package convert_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yoloarchive/yoloarchive/convert"
)

func TestLedger(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "results.csv"), []byte("epoch\n1\n"), 0o644)
	fp, err := convert.Fingerprint(src)
	if err != nil {
		t.Fatal(err)
	}
	l, err := convert.OpenLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Unchanged(src, fp); ok {
		t.Fatal("an empty ledger knows the run")
	}
	arch := filepath.Join(dir, "run.tar.zst")
	os.WriteFile(arch, []byte("12345"), 0o644)
	if err := l.Record(src, convert.LedgerEntry{Fingerprint: fp, Archive: arch, Size: 5}); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	l2, err := convert.OpenLedger(dir) // as a later capture reads it
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l2.Unchanged(src, fp); !ok {
		t.Error("the recorded run is not known after reopening")
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(src, "results.csv"), later, later)
	if fp2, _ := convert.Fingerprint(src); fp2 == fp {
		t.Error("a newer results.csv keeps the fingerprint")
	}
	os.WriteFile(arch, []byte("1234"), 0o644) // the archive changed or is cut short
	if _, ok := l2.Unchanged(src, fp); ok {
		t.Error("a run whose archive changed counts as unchanged")
	}
	os.WriteFile(filepath.Join(dir, convert.LedgerName), []byte("{"), 0o644)
	if _, err := convert.OpenLedger(dir); err == nil || !strings.Contains(err.Error(), convert.LedgerName) || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("damaged ledger: %v", err)
	}
}

// TestLedger_OtherIDScheme: a run recorded under another id scheme (a
// ledger of an older yoloarchive) is captured again, to get the id this
// one derives.
func TestLedger_OtherIDScheme(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(src, 0o755)
	fp, _ := convert.Fingerprint(src)
	arch := filepath.Join(dir, "run.tar.zst")
	os.WriteFile(arch, []byte("12345"), 0o644)
	// What yoloarchive wrote before run-id/v2: no id_scheme.
	doc := `{"version": 1, "sources": {"` + src + `": {"fingerprint": "` + fp + `", "archive": "` + arch + `", "run_id": "0123456789abcdef0123456789abcdef", "digest": "d", "size": 5}}}`
	os.WriteFile(filepath.Join(dir, convert.LedgerName), []byte(doc), 0o644)
	l, err := convert.OpenLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Unchanged(src, fp); ok {
		t.Error("a run recorded under a v1 id counts as unchanged")
	}
	l.Record(src, convert.LedgerEntry{Fingerprint: fp, Archive: arch, Size: 5})
	if e, ok := l.Unchanged(src, fp); !ok || e.IDScheme != convert.IDScheme {
		t.Errorf("recorded again: %+v, %v", e, ok)
	}
}
