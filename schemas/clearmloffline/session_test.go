package clearmloffline_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas/clearmloffline"
)

// TestWrittenTypes_SortedKeys: the SDK writes task.json with sorted keys,
// and encoding/json writes a struct's fields in declaration order, so
// every type the writer encodes declares its fields sorted by JSON name.
func TestWrittenTypes_SortedKeys(t *testing.T) {
	for _, v := range []any{clearmloffline.Task{}, clearmloffline.Param{}, clearmloffline.Execution{},
		clearmloffline.Artifact{}, clearmloffline.TypeData{}} {
		typ := reflect.TypeOf(v)
		var names []string
		for i := range typ.NumField() {
			if name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
				names = append(names, name)
			}
		}
		if !sort.StringsAreSorted(names) {
			t.Errorf("%T: fields %q are not in sorted order", v, names)
		}
	}
}
