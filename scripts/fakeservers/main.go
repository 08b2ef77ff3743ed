// Command fakeservers runs the in-repo ClearML and Comet test servers
// (sync/clearml/clearmltest, sync/comet/comettest) as a process, for
// benchmarks and manual runs of the CLI against them. It writes the
// environment that points yoloarchive at them to the file given with -env
// (sh syntax), prints a summary of what the servers hold on SIGINT or
// SIGTERM, and exits.
//
//	go run ./scripts/fakeservers -env /tmp/fake.env &
//	. /tmp/fake.env && yoloarchive sync archives/*.tar.zst --to clearml
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/yoloarchive/yoloarchive/sync/clearml/clearmltest"
	"github.com/yoloarchive/yoloarchive/sync/comet/comettest"
)

func main() {
	envFile := flag.String("env", "", "file to write the environment to (required)")
	flag.Parse()
	if *envFile == "" {
		fmt.Fprintln(os.Stderr, "fakeservers: -env FILE is required")
		os.Exit(2)
	}
	cl := clearmltest.New()
	defer cl.Close()
	co := comettest.New()
	defer co.Close()
	env := fmt.Sprintf(`export CLEARML_API_HOST=%s CLEARML_WEB_HOST=%s CLEARML_FILES_HOST=%s
export CLEARML_API_ACCESS_KEY=%s CLEARML_API_SECRET_KEY=%s
export COMET_API_KEY=%s COMET_URL_OVERRIDE=%s
`, cl.API.URL, cl.WebURL(), cl.Files.URL, cl.AccessKey, cl.SecretKey, co.APIKey, co.URLOverride())
	tmp := *envFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(env), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "fakeservers:", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, *envFile); err != nil {
		fmt.Fprintln(os.Stderr, "fakeservers:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	points := 0
	for _, x := range co.Experiments() {
		points += len(x.Metrics)
	}
	events := 0
	for _, t := range cl.Tasks() {
		events += len(cl.Events(t.ID))
	}
	fmt.Printf("clearml: %d tasks, %d events; comet: %d experiments, %d metric points\n", len(cl.Tasks()), events, len(co.Experiments()), points)
}
