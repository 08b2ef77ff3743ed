//go:build yoloarchive_testhooks

package clearml

import "os"

// With YOLOARCHIVE_TEST_STALL=clearml.conf, parsing a clearml.conf spins
// forever, burning a core and ignoring every context, as the HOCON
// parser did on "[p ": the interrupt tests check that a signal still
// stops the program. Only binaries built with the yoloarchive_testhooks
// tag have this hook.
func init() {
	if os.Getenv("YOLOARCHIVE_TEST_STALL") == "clearml.conf" {
		stall = func() {
			for n := 0; ; n++ {
			}
		}
	}
}
