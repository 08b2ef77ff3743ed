package archive

import (
	"regexp"
	"strings"
	"testing"
)

// The regexps the byte-by-byte checks replaced.
var (
	wantRunID = regexp.MustCompile(`^[0-9a-f]{32}$`)
	wantTable = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	wantEntry = regexp.MustCompile(`^tables/([a-z][a-z0-9_]*)\.parquet$`)
	wantBlob  = regexp.MustCompile(`^blobs/([0-9a-f]{64})$`)
	wantHex   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

var nameSeeds = []string{
	"", "a", "A", "_", "9", "scalars", "image_refs", "a9_", "Scalars", "sca-lars", "scalars\n",
	strings.Repeat("0", 32), strings.Repeat("f", 32), strings.Repeat("F", 32), strings.Repeat("0", 31), strings.Repeat("0", 33),
	strings.Repeat("ab", 32), strings.Repeat("g", 64), strings.Repeat("a", 63) + "\n",
	"tables/scalars.parquet", "tables/.parquet", "tables/Scalars.parquet", "tables/a/b.parquet", "tables/scalars.parquet.x",
	"tables/scalars.parquet\n", "xtables/scalars.parquet", "tables/scalars.parquettables/x.parquet",
	"blobs/" + strings.Repeat("0", 64), "blobs/" + strings.Repeat("0", 63), "blobs/" + strings.Repeat("A", 64),
	"blobs/" + strings.Repeat("0", 64) + "/", "blobs/", "header.json", "manifest.json",
}

// checkNames compares the checks of one name with the regexps.
func checkNames(t *testing.T, s string) {
	t.Helper()
	if got, want := isLowerHex(s, 32), wantRunID.MatchString(s); got != want {
		t.Errorf("isLowerHex(%q, 32) = %v, the regexp says %v", s, got, want)
	}
	if got, want := IsDigest(s), wantHex.MatchString(s); got != want {
		t.Errorf("IsDigest(%q) = %v, the regexp says %v", s, got, want)
	}
	if got, want := isTableName(s), wantTable.MatchString(s); got != want {
		t.Errorf("isTableName(%q) = %v, the regexp says %v", s, got, want)
	}
	kind, key, ok := classify(s)
	switch {
	case s == "header.json" || s == "manifest.json":
	case wantEntry.MatchString(s):
		if m := wantEntry.FindStringSubmatch(s); kind != KindTable || key != m[1] || !ok {
			t.Errorf("classify(%q) = %v, %q, %v; want a table %q", s, kind, key, ok, m[1])
		}
	case wantBlob.MatchString(s):
		if m := wantBlob.FindStringSubmatch(s); kind != KindBlob || key != m[1] || !ok {
			t.Errorf("classify(%q) = %v, %q, %v; want a blob %q", s, kind, key, ok, m[1])
		}
	case ok:
		t.Errorf("classify(%q) = %v, %q: the format defines no such name", s, kind, key)
	}
}

// TestNames_AsRegexps: the checks of entry names, run ids and table names
// accept what the regexps they replaced accept, and nothing else.
func TestNames_AsRegexps(t *testing.T) {
	for _, s := range nameSeeds {
		checkNames(t, s)
	}
}

func FuzzNames(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(checkNames)
}
