package archive_test

import (
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/archive"
)

func TestSafeName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"Plain", "train3", "train3"},
		{"DotDot", "../x", "x"},
		{"OnlyDots", "..", "run"},
		{"Hidden", ".env", "env"},
		{"Slashes", "a/b\\c", "a_b_c"},
		{"Spaces", "my run", "my_run"},
		{"Controls", "a\x1b[31mb\n", "a_31mb"},
		{"Empty", "", "run"},
		{"Unicode", "résumé", "r_sum"},
		{"Long", strings.Repeat("a", 300), strings.Repeat("a", 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.SafeName(tc.in); got != tc.want {
				t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSafeKey(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"Nested", "Team A/YOLO/baseline.id", "Team A/YOLO/baseline.id"},
		{"DotDot", "../../etc/../x.id/metrics/a", "run/run/etc/run/x.id/metrics/a"},
		{"Hidden", "p/.hidden.id", "p/hidden.id"},
		{"Empty", "//a//b/", "a/b"},
		{"Nothing", "/", "run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.SafeKey(tc.in); got != tc.want {
				t.Errorf("SafeKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
