package convert_test

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFuzzBodies runs the bodies of the fuzz targets that read
// files over their seeds: what one fuzz input costs, to profile
// (go test -fuzz takes no -cpuprofile).
func BenchmarkFuzzBodies(b *testing.B) {
	b.Run("SessionZip", func(b *testing.B) {
		seeds, dir := sessionZipSeeds(b), b.TempDir()
		for i := 0; b.Loop(); i++ {
			readSessionZip(b, dir, seeds[i%len(seeds)])
		}
	})
	b.Run("CometMessages", func(b *testing.B) {
		dir := cometFuzzSession(b)
		for i := 0; b.Loop(); i++ {
			readCometMessages(b, dir, cometFuzzSeeds[i%len(cometFuzzSeeds)])
		}
	})
	b.Run("ClearMLSession", func(b *testing.B) {
		metrics, _ := os.ReadFile(filepath.Join(sessionFolder, "metrics.jsonl"))
		logs, _ := os.ReadFile(filepath.Join(sessionFolder, "log.jsonl"))
		session := clearMLFuzzSession(b)
		for b.Loop() {
			readClearMLSession(b, session, metrics, logs)
		}
	})
}
