// Package memtest measures the peak heap of a function, for tests that
// hold a streaming reader or writer to a memory bound.
package memtest

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// heapObjects is the heap the program's objects occupy, live or not yet
// swept: what grows when a table is held in memory.
const heapObjects = "/memory/classes/heap/objects:bytes"

// PeakHeap runs fn and returns the largest heap its objects occupied
// while it ran, less the heap before it started (after a collection),
// sampled every millisecond by a goroutine. A table held whole stays in
// memory for far longer than a sample, so the sample misses nothing that
// matters. While fn runs the collector runs at GOGC=10, so that garbage
// not yet collected adds at most a tenth to the live heap: the peak
// measures what fn holds, not when the collector last ran.
func PeakHeap(fn func() error) (peak uint64, err error) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	sample := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: heapObjects}}
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			most = max(most, s[0].Value.Uint64())
			select {
			case <-done:
				result <- most
				return
			case <-tick.C:
			}
		}
	}()
	err = fn()
	close(done)
	most := <-result
	if most < base {
		return 0, err
	}
	return most - base, err
}

// HeapNow is the heap the program's objects occupy after two collections
// (the second frees what sync.Pools kept through the first): what a test
// still holds, such as a fake server's store after a sync.
func HeapNow() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
