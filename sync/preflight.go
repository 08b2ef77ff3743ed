package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Checker is a Target that can check, before a batch, that its
// destination will take archives. It is the destination's one preflight
// method; Preflight runs it (once per batch, within PreflightTimeout),
// looks up the projects and writes the notes.
type Checker interface {
	// Check checks the destination without writing anything to it: a
	// tracker server answers and accepts the credentials, and the
	// workspace can be used; an offline export's output directory is
	// writable. Notes say what was checked (whose key, the server's
	// version). A tracker with projects returns how to look one up (nil:
	// none). The error, if any, is one line that says what to fix (the
	// variable, flag or file), never a credential.
	Check(ctx context.Context) (notes []string, projects *Projects, err error)
}

// Projects looks up a destination's projects (ClearML and Comet
// projects, MLflow experiments) for Preflight: the configured one, else
// those the batch's archives name, else Fallback. A project that does
// not exist yet is not an error (the first sync creates it) but a note.
type Projects struct {
	// Noun names a project in the notes ("project", "experiment").
	Noun string
	// Configured is the project the destination is set to (empty: each
	// archive's own).
	Configured string
	// Fallback is looked up when there is no project to look up (MLflow's
	// "Default", which proves the answer and the credentials); empty:
	// none.
	Fallback string
	// Trim, when set, is cut from both ends of each name (ClearML's "/").
	Trim string
	// Find reports whether the named project exists, read-only; about
	// is added to its note (" (id 3)"). Its error is one line that says
	// what to fix.
	Find func(ctx context.Context, name string) (exists bool, about string, err error)
}

// check looks up the configured project and each of names (once each),
// or the Fallback, and appends a note for each.
func (p *Projects) check(ctx context.Context, names []string, notes []string) ([]string, error) {
	var todo []string
	for _, n := range append([]string{p.Configured}, names...) {
		if p.Trim != "" {
			n = strings.Trim(n, p.Trim)
		}
		if n != "" && !slices.Contains(todo, n) {
			todo = append(todo, n)
		}
	}
	if len(todo) == 0 && p.Fallback != "" {
		todo = []string{p.Fallback}
	}
	for _, name := range todo {
		exists, about, err := p.Find(ctx, name)
		switch {
		case err != nil:
			return notes, err
		case exists:
			notes = append(notes, fmt.Sprintf("%s %q exists%s", p.Noun, name, about))
		default:
			notes = append(notes, fmt.Sprintf("%s %q does not exist yet: the first sync creates it", p.Noun, name))
		}
	}
	return notes, nil
}

// Check is what a preflight found.
type Check struct {
	Destination string `json:"destination"`
	// Status is "ok" or StatusFailed.
	Status string `json:"status"`
	// Notes say what was checked: whose key, the server's version, each
	// project and whether it exists yet.
	Notes   []string `json:"notes,omitempty"`
	Error   string   `json:"error,omitempty"`
	Seconds float64  `json:"seconds"`
}

// PreflightTimeout bounds a whole preflight: an unreachable host, a
// blackholed address or a server that accepts connections and never
// answers fails it within this time, not after a sync's retry budget.
const PreflightTimeout = 10 * time.Second

// PreflightClientOptions are the HTTP client options of a preflight: two
// attempts 0.5–1 s apart, a 3 s connect timeout and 5 s for an answer's
// headers (the SDKs give a first request 3 s to connect and 10 s to
// answer), so that a blackholed host fails it in about 7 s, and a server
// that never answers at PreflightTimeout.
func PreflightClientOptions() ClientOptions {
	return ClientOptions{RetryMax: 1, WaitMin: 500 * time.Millisecond, WaitMax: time.Second,
		MaxRetryAfter: 2 * time.Second, DialTimeout: 3 * time.Second, HeaderTimeout: 5 * time.Second}
}

// Preflight runs r's Check, then looks up its configured project and each
// of projects (those a batch's archives name), within PreflightTimeout.
// A destination that has no Check passes with no notes. The error is a
// *PreflightError.
func Preflight(ctx context.Context, r Target, projects []string) (*Check, error) {
	start := time.Now()
	c := &Check{Destination: r.Destination(), Status: "ok"}
	checker, ok := r.(Checker)
	if !ok {
		return c, nil
	}
	cctx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	notes, lookup, err := checker.Check(cctx)
	if err == nil && lookup != nil {
		notes, err = lookup.check(cctx, projects, notes)
	}
	c.Seconds = time.Since(start).Seconds()
	c.Notes = notes
	if err != nil {
		if ctx.Err() != nil {
			return c, ctx.Err()
		}
		if cctx.Err() != nil && errors.Is(err, cctx.Err()) {
			err = &DestinationError{Cause: CauseUnreachable, Err: err,
				Msg: fmt.Sprintf("%s did not answer within %s: check the address and the network", r.Destination(), PreflightTimeout)}
		}
		c.Status, c.Error = StatusFailed, oneLine(err.Error())
		return c, &PreflightError{Destination: r.Destination(), Cause: Classify(err), Err: err}
	}
	return c, nil
}

// PreflightError is a failed preflight: nothing was sent.
type PreflightError struct {
	Destination string
	Cause       Cause
	Err         error
}

// Error is the check's one line.
func (e *PreflightError) Error() string { return oneLine(e.Err.Error()) }

// Unwrap returns the cause.
func (e *PreflightError) Unwrap() error { return e.Err }

// Cause classifies a failure of a destination, so that a batch can tell
// a dead or refusing tracker (the same cause archive after archive) from
// one archive's problem.
type Cause string

// The causes of a destination failure. CauseNone covers everything that
// belongs to one archive (a corrupt archive, a request the server refused
// for its content): such failures never stop a batch.
const (
	CauseNone        Cause = ""
	CauseUnreachable Cause = "unreachable"
	CauseCredentials Cause = "credentials refused"
	CauseServer      Cause = "server error"
	CauseRateLimited Cause = "rate-limited"
	CauseOutput      Cause = "output not writable"
	// CauseRefused: the server answers and takes the key but refuses the
	// destination (a workspace the key cannot use).
	CauseRefused Cause = "refused"
)

// Causer is an error that knows its Cause (the trackers' API errors).
type Causer interface {
	Cause() Cause
}

// DestinationError is a failure of the destination, not of an archive:
// Msg is what to tell the user, Err the underlying error.
type DestinationError struct {
	Cause Cause
	Msg   string
	Err   error
}

// Error returns Msg.
func (e *DestinationError) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *DestinationError) Unwrap() error { return e.Err }

// Classify returns the destination cause of err: a DestinationError's, a
// Causer's (the first in the chain), or CauseUnreachable for a request
// that got no answer; CauseNone for anything else, a cancellation
// included.
func Classify(err error) Cause {
	if err == nil || errors.Is(err, context.Canceled) {
		return CauseNone
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *DestinationError:
			return x.Cause
		case Causer:
			if c := x.Cause(); c != CauseNone {
				return c
			}
		case *NetError:
			return CauseUnreachable
		}
	}
	return CauseNone
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// CheckWritable checks that files can be created in dir, or, when it does
// not exist yet, in the nearest directory above it that does (the export
// makes dir). It leaves nothing behind.
func CheckWritable(dir string) error {
	d := filepath.Clean(dir)
	for {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return &DestinationError{Cause: CauseOutput, Err: err,
					Msg: fmt.Sprintf("output directory %s: %s is a file, not a directory: choose another with -o", dir, d)}
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return &DestinationError{Cause: CauseOutput, Err: err, Msg: fmt.Sprintf("output directory %s: %v: choose another with -o", dir, err)}
		}
		up := filepath.Dir(d)
		if up == d {
			break
		}
		d = up
	}
	f, err := os.CreateTemp(d, ".yoloarchive-check-")
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return &DestinationError{Cause: CauseOutput, Err: err,
			Msg: fmt.Sprintf("cannot write to %s (%s): choose another output directory with -o, or fix its permissions", d, msg)}
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
