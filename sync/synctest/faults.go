// Package synctest holds what the tracker test servers share: fault
// injection (429 with Retry-After, 500, connection resets, garbage bodies,
// slowness), a request log, and a cancel-after-N hook that simulates a sync
// killed part-way.
//
// Both fakes (sync/clearml/clearmltest and sync/comet/comettest) wrap their
// handlers with a Faults, so every sync test drives the same failure modes.
// The injector itself is sync/synctest/faults (standard library only); the
// names here are its, with the answers of the ClearML and Comet fakes.
package synctest

import "github.com/yoloarchive/yoloarchive/sync/synctest/faults"

// Kind is a kind of injected failure.
type Kind = faults.Kind

// Fault is one failure to inject.
type Fault = faults.Fault

// Request is one logged request.
type Request = faults.Request

// Faults injects failures into an http.Handler and logs requests.
type Faults = faults.Faults

// The failures a Faults can inject.
const (
	TooMany     = faults.TooMany
	ServerError = faults.ServerError
	Reset       = faults.Reset
	Garbage     = faults.Garbage
	Slow        = faults.Slow
	BadGateway  = faults.BadGateway
)

// trackerAnswers are the injected errors' bodies for the ClearML and Comet
// fakes: Comet's 429 (with Retry-After-Custom, which its SDK honours) and
// ClearML's 500 envelope.
var trackerAnswers = faults.Answers{
	TooMany:          `{"msg":"rate limit exceeded","code":429}`,
	ServerError:      `{"meta":{"result_code":500,"result_subcode":0,"result_msg":"Internal server error"},"data":{},"msg":"Internal server error"}`,
	RetryAfterCustom: true,
}

// New returns a Faults that injects nothing until told to.
func New() *Faults { return faults.New(trackerAnswers) }
