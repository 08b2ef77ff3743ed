package cometoffline_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/schemas/cometoffline"
)

// jsonNames returns a struct type's JSON field names in declaration order.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// TestWrittenTypes_SortedKeys: the SDK writes messages with sorted keys,
// and encoding/json writes a struct's fields in declaration order, so
// every type the writer encodes declares its fields sorted by JSON name.
func TestWrittenTypes_SortedKeys(t *testing.T) {
	for _, v := range []any{cometoffline.Experiment{}, cometoffline.Message{}, cometoffline.Metric{}, cometoffline.Param{},
		cometoffline.MetricPayload{}, cometoffline.ParameterPayload{}, cometoffline.LogOtherPayload{}, cometoffline.OutputPayload{},
		cometoffline.UploadPayload{}, cometoffline.UploadParams{}, cometoffline.Metadata{}, cometoffline.Layer{}, cometoffline.Annotation{}} {
		names := jsonNames(reflect.TypeOf(v))
		if !sort.StringsAreSorted(names) {
			t.Errorf("%T: fields %q are not in sorted order", v, names)
		}
	}
}

// TestLine_ReadsWhatIsWritten decodes written messages with the reader's
// one-pass Line.
func TestLine_ReadsWhatIsWritten(t *testing.T) {
	step, epoch := int64(3), int64(1)
	metric := cometoffline.Message{Type: cometoffline.TypeMetric, Payload: cometoffline.MetricPayload{LocalTimestamp: 5,
		Metric: &cometoffline.Metric{MetricName: "loss", MetricValue: json.RawMessage(`0.5`), Step: &step, Epoch: &epoch}}}
	param := cometoffline.Message{Type: cometoffline.TypeParameter, Payload: cometoffline.ParameterPayload{Context: "train",
		Params: &cometoffline.Param{ParamName: "freeze", ParamValue: json.RawMessage(`[0]`), Source: "manual"}}}
	for _, m := range []cometoffline.Message{metric, param} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var l cometoffline.Line
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		switch l.Type {
		case cometoffline.TypeMetric:
			if got := l.Payload.Metric; got.MetricName != "loss" || string(got.MetricValue) != "0.5" || *got.Step != 3 || *got.Epoch != 1 || l.Payload.LocalTimestamp != 5 {
				t.Errorf("metric read back as %+v from %s", got, b)
			}
		case cometoffline.TypeParameter:
			if got := l.Payload.Params; got == nil || got.ParamName != "freeze" || string(got.ParamValue) != "[0]" || *l.Payload.Context != "train" {
				t.Errorf("param read back as %+v from %s", got, b)
			}
		default:
			t.Errorf("type %q", l.Type)
		}
	}
}
