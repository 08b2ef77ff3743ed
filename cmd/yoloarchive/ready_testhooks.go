//go:build yoloarchive_testhooks

package main

import "os"

// With YOLOARCHIVE_TEST_READY=FILE, the program writes FILE once its
// signal handling is set up, so that the interrupt tests signal a command
// that runs, not one still loading its libraries. Only binaries built
// with the yoloarchive_testhooks tag have this hook.
func init() {
	if p := os.Getenv("YOLOARCHIVE_TEST_READY"); p != "" {
		ready = func() { os.WriteFile(p, nil, 0o644) }
	}
}
