package main

import (
	"errors"
	"time"

	"github.com/alecthomas/kong"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Globals are the flags every command takes.
type Globals struct {
	Version          kong.VersionFlag `help:"Print the version and exit."`
	ProgressInterval time.Duration    `default:"10s" env:"YOLOARCHIVE_PROGRESS_INTERVAL" placeholder:"DURATION" help:"How often a progress line is printed when stderr is not a terminal (on a terminal, bars are drawn)."`
}

// Validate checks the global flags.
func (g *Globals) Validate() error {
	if g.ProgressInterval <= 0 {
		return errors.New("--progress-interval must be positive")
	}
	return nil
}

// progress starts the progress report of a batch of total items on
// stderr. It hands the progress the writer inside
// Stderr (os.Stderr itself), so that it can tell a terminal.
func (g *Globals) progress(stderr *Stderr, verb, noun string, total int) *ysync.Progress {
	return ysync.NewProgress(stderr.Writer, ysync.ProgressOptions{Verb: verb, Noun: noun, Total: total, Interval: g.ProgressInterval})
}
