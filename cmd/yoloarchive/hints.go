package main

import (
	"errors"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
)

// withPath prefixes a message with the file it is about, unless the
// message already names it (as os errors do).
func withPath(path, msg string) string {
	if strings.Contains(msg, path) {
		return msg
	}
	return path + ": " + msg
}

// describeArchiveErr returns err's message followed by what to do about
// it, for the archive problems a user can act on.
func describeArchiveErr(err error) string {
	msg := oneLine(err.Error())
	switch {
	case errors.Is(err, archive.ErrTruncated):
		return msg + " (the file is incomplete: copy it again from where it was written)"
	case errors.Is(err, archive.ErrChecksum), errors.Is(err, archive.ErrBadManifest):
		return msg + " (the file is damaged: copy it again, or capture the run again)"
	case errors.Is(err, archive.ErrInsecurePath), errors.Is(err, archive.ErrBadEntry):
		return msg + " (not an archive yoloarchive wrote: do not extract it)"
	}
	return msg
}
