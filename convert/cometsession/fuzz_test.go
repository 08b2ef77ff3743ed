package cometsession_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yoloarchive/yoloarchive/convert"
	_ "github.com/yoloarchive/yoloarchive/convert/cometsession"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// cometFuzzSeeds are FuzzCometMessages' seeds.
var cometFuzzSeeds = [][]byte{
	[]byte(`{"type":"metric_msg","payload":{"local_timestamp":1,"context":"train","metric":{"metricName":"a","metricValue":"NaN","step":1,"epoch":1}}}
{"type":"ws_msg","payload":{"local_timestamp":2,"env_details":{"pid":1}}}
{"type":"ws_msg","payload":{"log_other":{"key":"Name","val":"x"}}}
{"type":"file_upload","payload":{"file_path":"img.png","upload_type":"visualization","local_timestamp":3,"additional_params":{"figName":"a","step":2},"metadata":{"annotations":[{"name":"prediction","data":[{"boxes":[[1,2,3,4]],"points":[[1,2,3,4,5,6]],"label":"x","score":50}]}]}}}
{"type":"file_upload","payload":{"file_path":"../secret","upload_type":"asset","local_timestamp":3,"additional_params":null}}
`),
	[]byte("{\"type\":\"parameter_msg\",\"payload\":{\"params\":{\"paramName\":\"l\",\"paramValue\":[1,\"a\",[2]]}}}\n{"),
}

// FuzzCometMessages captures a Comet session whose messages.json is the
// fuzzed input: never a panic, a file_upload never reads outside the
// session, and an error is one line naming the session. The session is
// held in memory (convert.ReadFS).
func FuzzCometMessages(f *testing.F) {
	for _, s := range cometFuzzSeeds {
		f.Add(s)
	}
	session := cometFuzzSession()
	f.Fuzz(func(t *testing.T, msgs []byte) { readCometMessages(t, session, msgs) })
}

// cometFuzzName is the name the Comet fuzz target's session goes by.
const cometFuzzName = "/fuzz/session"

// cometFuzzSession is the session FuzzCometMessages fills with each
// input: an experiment.json.
func cometFuzzSession() fstest.MapFS {
	return fstest.MapFS{"experiment.json": {Data: []byte(`{"offline_id":"0123456789abcdef0123456789abcdef","start_time":1,"stop_time":2}`), Mode: 0o644}}
}

// readCometMessages is FuzzCometMessages' body.
func readCometMessages(tb testing.TB, session fstest.MapFS, msgs []byte) {
	fsys := maps.Clone(session)
	fsys["messages.json"] = &fstest.MapFile{Data: msgs, Mode: 0o644}
	r, err := convert.ReadFS(context.Background(), fsys, cometFuzzName, schemas.SourceCometOffline, convert.Options{Workers: 1})
	if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), cometFuzzName)) {
		tb.Fatalf("bad error: %q", err)
	}
	if err == nil {
		for _, a := range r.Assets {
			if strings.Contains(a.FileName, "..") {
				tb.Fatalf("asset %s", a.FileName)
			}
		}
		r.Close()
	}
}

// BenchmarkFuzzBody runs FuzzCometMessages' body over its seeds: what
// one fuzz input costs, to profile.
func BenchmarkFuzzBody(b *testing.B) {
	session := cometFuzzSession()
	for i := 0; b.Loop(); i++ {
		readCometMessages(b, session, cometFuzzSeeds[i%len(cometFuzzSeeds)])
	}
}
