//go:build !linux

package archive

import "os"

// mapFile is mmap_linux.go's; elsewhere small archives are read into
// memory.
func mapFile(*os.File, int64, bool) ([]byte, func(), bool) { return nil, nil, false }

// prefault is mmap_linux.go's; elsewhere pages fault in as they are
// written.
func prefault([]byte) {}
