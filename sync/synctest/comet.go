package synctest

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// CometSessions is the directory of the hand-made Comet offline
// experiments (testdata/comet-offline; testdata/README.md says how each
// was made).
func CometSessions() string {
	return filepath.Join(Fixtures(), "..", "comet-offline")
}

// CometZip zips the Comet offline experiment testdata/comet-offline/name
// as the SDK does (every file at the root, stored) into a test temporary
// directory, as <offline_id>.zip, and returns its path.
func CometZip(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(CometSessions(), name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "experiment.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var exp struct {
		OfflineID string `json:"offline_id"`
	}
	if err := json.Unmarshal(meta, &exp); err != nil || exp.OfflineID == "" {
		tb.Fatalf("%s/experiment.json: no offline_id (%v)", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	dst := filepath.Join(tb.TempDir(), exp.OfflineID+".zip")
	f, err := os.Create(dst)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			tb.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return dst
}
