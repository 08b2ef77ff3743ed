package comet_test

// The session readers the tests capture with, registered as the command
// registers them (cmd/yoloarchive/capture.go).
import (
	_ "github.com/yoloarchive/yoloarchive/convert/clearmlsession"
	_ "github.com/yoloarchive/yoloarchive/convert/cometsession"
)
