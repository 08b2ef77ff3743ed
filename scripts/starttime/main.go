// Command starttime measures how long short commands take, for
// scripts/bench.sh. It runs each command n times, their outputs
// discarded, taking turns (the first, the second, …, the first again) so
// that a change in the machine's speed while it measures falls on all of
// them alike, and prints one line per command: the median wall time in
// seconds (from fork to exit), the largest peak RSS in MB and the median
// CPU time (user + system) in seconds, as "seconds MB cpu-seconds".
//
// A shell's $(date +%s.%N) around GNU time, as bench.sh times its longer
// commands, adds two processes and ~10 ms of wall time on a 2-CPU VM:
// more than half of what it would measure of a command that takes 20 ms.
//
//	starttime [-n 41] command [args...] [:: command [args...] ...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// result is what the runs of one command measured.
type result struct {
	walls, cpus []time.Duration
	rss         int64 // KiB
}

func main() {
	n := flag.Int("n", 41, "runs of each command")
	flag.Parse()
	var cmds [][]string
	for rest := flag.Args(); len(rest) > 0; {
		i := slices.Index(rest, "::")
		if i < 0 {
			i = len(rest)
		}
		cmds = append(cmds, rest[:i])
		rest = rest[min(i+1, len(rest)):]
	}
	if len(cmds) == 0 || slices.ContainsFunc(cmds, func(c []string) bool { return len(c) == 0 }) || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: starttime [-n runs] command [args...] [:: command [args...] ...]")
		os.Exit(2)
	}
	results := make([]result, len(cmds))
	for range *n {
		for i, args := range cmds {
			cmd := exec.Command(args[0], args[1:]...)
			start := time.Now()
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "starttime: %s: %v\n", strings.Join(args, " "), err)
				os.Exit(1)
			}
			r := &results[i]
			r.walls = append(r.walls, time.Since(start))
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			r.cpus = append(r.cpus, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()))
			r.rss = max(r.rss, ru.Maxrss)
		}
	}
	for _, r := range results {
		fmt.Printf("%.6f %.1f %.4f\n", median(r.walls).Seconds(), float64(r.rss)/1024, median(r.cpus).Seconds())
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
