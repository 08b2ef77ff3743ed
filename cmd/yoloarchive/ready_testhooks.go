//go:build yoloarchive_testhooks

package main

import (
	"os"
	"runtime/pprof"
)

// With YOLOARCHIVE_TEST_READY=FILE, the program writes FILE once its
// signal handling is set up, so that the interrupt tests signal a command
// that runs, not one still loading its libraries. Only binaries built
// with the yoloarchive_testhooks tag have this hook.
func init() {
	if p := os.Getenv("YOLOARCHIVE_TEST_READY"); p != "" {
		ready = func() { os.WriteFile(p, nil, 0o644) }
	}
	// With YOLOARCHIVE_TEST_WATCHDOG=FILE, the watchdog writes the stacks
	// of every goroutine to FILE when it ends the command: the interrupt
	// tests check that a command stopped by its own cancellation, and
	// the stacks show the work that ignored it.
	if p := os.Getenv("YOLOARCHIVE_TEST_WATCHDOG"); p != "" {
		watchdogFired = func() {
			if f, err := os.Create(p); err == nil {
				pprof.Lookup("goroutine").WriteTo(f, 1)
				f.Close()
			}
		}
	}
}
