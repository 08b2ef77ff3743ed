package synctest

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Training writes a run directory step by step the way Ultralytics 8.3
// does while it trains, on a simulated clock that also sets every file's
// modification time:
//
//   - start: args.yaml, then labels.jpg and labels_correlogram.jpg;
//   - each epoch: (epoch 1) train_batch0-2.jpg, results.csv rewritten with
//     one more row, weights/last.pt and weights/best.pt rewritten in place;
//   - end: the final validation's images and plots, results.png, and the
//     final weights.
//
// Every file is written in two steps (half of it, then the rest), so a
// reader looking between two steps sees half-written files, as a reader
// racing a real training does.
type Training struct {
	// Dir is the run directory being written.
	Dir string
	// Final is a copy of the finished run the steps lead to.
	Final string

	tb    testing.TB
	clock time.Time
	steps []func()
	next  int
}

// TrainingStart is the simulated clock's start.
var TrainingStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// NewTraining prepares a training run of the given name and epochs
// (SynthRunNamed with two validation images) to be written into a new
// directory step by step.
func NewTraining(tb testing.TB, name string, epochs int) *Training {
	tb.Helper()
	final := SynthRunNamed(tb, name, epochs, 2, 0)
	t := &Training{Dir: filepath.Join(tb.TempDir(), name), Final: final, tb: tb, clock: TrainingStart}
	if err := os.MkdirAll(filepath.Join(t.Dir, "weights"), 0o755); err != nil {
		tb.Fatal(err)
	}
	csv := t.read("results.csv")
	lines := strings.SplitAfter(string(csv), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	rng := rand.New(rand.NewSource(7))
	weights := func(epoch int) []byte {
		w := make([]byte, 48<<10)
		rng.Read(w)
		copy(w, fmt.Sprintf("checkpoint of epoch %d", epoch))
		return w
	}
	t.file("args.yaml", t.read("args.yaml"))
	t.file("labels.jpg", t.read("labels.jpg"))
	t.file("labels_correlogram.jpg", t.read("labels_correlogram.jpg"))
	var endFiles []string
	entries, err := os.ReadDir(final)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir(), n == "args.yaml", n == "results.csv", n == "results.png", strings.HasPrefix(n, "labels"), strings.HasPrefix(n, "train_batch"):
		default:
			endFiles = append(endFiles, n)
		}
	}
	sort.Strings(endFiles)
	for e := 1; e <= epochs; e++ {
		if e == 1 {
			for i := 0; i < 3; i++ {
				n := fmt.Sprintf("train_batch%d.jpg", i)
				t.file(n, t.read(n))
			}
		}
		t.file("results.csv", []byte(strings.Join(lines[:e+1], "")))
		t.file("weights/last.pt", weights(e))
		if e%2 == 1 || e == epochs {
			t.file("weights/best.pt", weights(e))
		}
	}
	for _, n := range endFiles {
		t.file(n, t.read(n))
	}
	t.file("results.png", t.read("results.png"))
	best := weights(epochs + 1)
	t.file("weights/best.pt", best)
	t.file("weights/last.pt", best)
	return t
}

func (t *Training) read(name string) []byte {
	data, err := os.ReadFile(filepath.Join(t.Final, name))
	if err != nil {
		t.tb.Fatal(err)
	}
	return data
}

// file adds the two steps that write a file in place: truncate and write
// half of it, then the rest.
func (t *Training) file(name string, data []byte) {
	p := filepath.Join(t.Dir, name)
	half := len(data) / 2
	t.steps = append(t.steps, func() {
		t.write(p, data[:half], os.O_CREATE|os.O_TRUNC|os.O_WRONLY)
	}, func() {
		t.write(p, data[half:], os.O_APPEND|os.O_WRONLY)
	})
}

func (t *Training) write(p string, data []byte, flag int) {
	f, err := os.OpenFile(p, flag, 0o644)
	if err != nil {
		t.tb.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.tb.Fatal(err)
	}
	if err := os.Chtimes(p, t.clock, t.clock); err != nil {
		t.tb.Fatal(err)
	}
}

// Steps returns the number of steps.
func (t *Training) Steps() int { return len(t.steps) }

// Done reports whether every step ran.
func (t *Training) Done() bool { return t.next == len(t.steps) }

// Step runs the next step and advances the clock by 3 s.
func (t *Training) Step() {
	t.clock = t.clock.Add(3 * time.Second)
	t.steps[t.next]()
	t.next++
}

// Now returns the simulated time.
func (t *Training) Now() time.Time { return t.clock }

// Wait advances the clock without writing (the follower's settle time).
func (t *Training) Wait(d time.Duration) { t.clock = t.clock.Add(d) }
