package comettest

import "testing"

// BenchmarkCheck_Metric is the schema check of one metric write, the
// fake's most frequent request.
func BenchmarkCheck_Metric(b *testing.B) {
	set, err := loadSchemas()
	if err != nil {
		b.Fatal(err)
	}
	v, _ := decodeJSON([]byte(`{"experimentKey":"3f2a8c1e9b7d4e6fa0c1d2e3f4a5b6c7","metricName":"metrics/mAP50(B)","metricValue":0.512,"step":1850,"epoch":5,"timestamp":1717000100000}`))
	for b.Loop() {
		if aerr := set.check("request/write/experiment/metric.json", v, inBody); aerr != nil {
			b.Fatal(aerr.msg)
		}
	}
}
