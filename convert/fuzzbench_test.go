package convert_test

import "testing"

// BenchmarkFuzzBodies runs the bodies of the fuzz targets that read
// files over their seeds: what one fuzz input costs, to profile
// (go test -fuzz takes no -cpuprofile). The session readers' own are
// BenchmarkFuzzBody in convert/clearmlsession and convert/cometsession.
func BenchmarkFuzzBodies(b *testing.B) {
	b.Run("SessionZip", func(b *testing.B) {
		seeds, dir := sessionZipSeeds(b), b.TempDir()
		for i := 0; b.Loop(); i++ {
			readSessionZip(b, dir, seeds[i%len(seeds)])
		}
	})
}
