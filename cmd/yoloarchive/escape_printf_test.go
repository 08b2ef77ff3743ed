package main

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
)

func TestPrintf_LineBreaksInArguments(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		args         []any
		want         string
	}{
		{"String", "%s -> %s\n", []any{"a\nsynced: 5", "b\r"}, "a\\nsynced: 5 -> b\\r\n"},
		{"Quoted", "name %q, %s\n", []any{"a\nb", "c\nd"}, "name \"a\\nb\", c\\nd\n"},
		{"Error", "failed: %v\n", []any{errors.New("x\ny")}, "failed: x\\ny\n"},
		{"Width", "%-*s|%5d\n", []any{4, "a\nb", 3}, "a\\nb|    3\n"},
		{"Percent", "100%% %s\n", []any{"\n"}, "100% \\n\n"},
		{"NumberStringer", "%d %s\n", []any{count(3), count(4)}, "3 n\\n4\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printf(&b, tc.format, tc.args...)
			if got := b.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// count is a number with a String method holding a line break.
type count int

func (c count) String() string { return "n\n" + strconv.Itoa(int(c)) }
