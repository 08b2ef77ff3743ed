package sync

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// CallbackVersion is the Ultralytics version whose callback behaviour a
// replay follows: the override, the run's exact version (known from a
// checkpoint), else the lower bound of the range inferred from its files,
// else a recent default.
func CallbackVersion(info schemas.RunRow, override string) string {
	switch {
	case override != "":
		return override
	case info.UltralyticsVersion != nil && *info.UltralyticsVersion != "":
		return *info.UltralyticsVersion
	case info.VersionMin != nil && *info.VersionMin != "":
		return *info.VersionMin
	}
	return "8.3.0"
}

// VersionLess compares dotted versions ("8.3.9" < "8.3.10") numerically.
func VersionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// Clock gives replayed items their original times: the run's start plus
// results.csv's elapsed time (the "time" metric) for an epoch, spread
// evenly between start and end when that column is missing.
type Clock struct {
	// Start and Stop are the run's start and end (best estimates).
	Start, Stop time.Time
	elapsed     map[int64]float64
	epochs      int64
}

// NewClock returns the Clock of a run.
func NewClock(run *Run) *Clock {
	c := &Clock{elapsed: map[int64]float64{}, epochs: run.Epochs()}
	for e, v := range run.EpochTimes() {
		if !math.IsNaN(v) {
			c.elapsed[e] = v
		}
	}
	if run.Info.EndedAt != nil {
		c.Stop = *run.Info.EndedAt
	}
	if run.Info.StartedAt != nil {
		c.Start = *run.Info.StartedAt
	}
	if c.Start.IsZero() && !c.Stop.IsZero() {
		c.Start = c.Stop.Add(-time.Duration(c.elapsed[c.epochs] * float64(time.Second)))
	}
	if c.Start.IsZero() {
		c.Start = time.Unix(0, 0)
	}
	if c.Stop.Before(c.Start) {
		c.Stop = c.Start
	}
	return c
}

// Epoch is when the 1-based epoch e ended.
func (c *Clock) Epoch(e int64) time.Time {
	if t, ok := c.elapsed[e]; ok {
		return c.Start.Add(time.Duration(t * float64(time.Second)))
	}
	if c.epochs > 0 {
		return c.Start.Add(c.Stop.Sub(c.Start) * time.Duration(e) / time.Duration(c.epochs))
	}
	return c.Start
}

// At is when a point was logged: its wall time when known, else its
// epoch's end.
func (c *Clock) At(s schemas.ScalarRow) time.Time {
	if s.WallTime != nil {
		return *s.WallTime
	}
	return c.Epoch(s.Epoch)
}

// End is when training ended: the later of the recorded end and the last
// epoch's end.
func (c *Clock) End() time.Time {
	if e := c.Epoch(c.epochs); e.After(c.Stop) {
		return e
	}
	return c.Stop
}
