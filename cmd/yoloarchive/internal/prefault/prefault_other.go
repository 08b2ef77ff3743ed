//go:build !linux

package prefault

// Outside Linux the package does nothing: the advices are Linux's.
