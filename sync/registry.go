package sync

import (
	"fmt"
	"sort"
	"strings"
	gosync "sync"
)

// Options are what every destination takes from the sync command.
type Options struct {
	// Project and Name replace the run's own (empty: the callback's).
	Project, Name string
	// Tags are extra tags.
	Tags []string
	// Version replays as this Ultralytics version's callback.
	Version string
	// Out is an offline export's output directory (empty: the Kind's
	// DefaultOut).
	Out string
}

// Kind is a registered destination: one `sync --to` value.
type Kind struct {
	// Name is the --to value ("clearml", "comet-offline").
	Name string
	// Help says what the destination is, for --to's help.
	Help string
	// Tracker names the flag group (and configuration) the destination
	// reads: "clearml", "comet".
	Tracker string
	// Offline kinds write files under -o (DefaultOut when unset) and keep
	// no checkpoints.
	Offline    bool
	DefaultOut string
	// NoTags, when set, refuses --tags with this reason (the tracker's
	// callback logs no tags).
	NoTags string
	// Gaps says which of an archive's gap items matter to the
	// destination: what its tracker's live callback would have logged, or
	// the source held, that the replay lacks. Kinds of one tracker share
	// it; nil: none matter.
	Gaps func(item string) bool
	// New makes the target from the command's options and the tracker's
	// flag group, as parsed (a pointer to the tracker package's Flags).
	New func(o Options, flags any) (Target, error)
}

var registry struct {
	mu    gosync.Mutex
	kinds map[string]Kind
}

// Register adds a destination; a tracker package registers its kinds in
// an init function. Registering a name twice panics.
func Register(k Kind) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.kinds == nil {
		registry.kinds = map[string]Kind{}
	}
	if _, dup := registry.kinds[k.Name]; dup {
		panic(fmt.Sprintf("sync: destination %q registered twice", k.Name))
	}
	registry.kinds[k.Name] = k
}

// Kinds returns the registered destinations, sorted by name.
func Kinds() []Kind {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	out := make([]Kind, 0, len(registry.kinds))
	for _, k := range registry.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the destination registered as name.
func Lookup(name string) (Kind, bool) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	k, ok := registry.kinds[name]
	return k, ok
}

// KindNames returns the registered names, comma-separated (for --to's
// enum).
func KindNames() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ",")
}

// OutDefaults lists the offline kinds' default output directories
// ("./comet-offline, ./clearml-offline or ./mlruns"), for -o's help.
func OutDefaults() string {
	var dirs []string
	for _, k := range Kinds() {
		if k.Offline {
			dirs = append(dirs, "./"+k.DefaultOut)
		}
	}
	if len(dirs) < 2 {
		return strings.Join(dirs, "")
	}
	return strings.Join(dirs[:len(dirs)-1], ", ") + " or " + dirs[len(dirs)-1]
}

// KindsHelp describes the registered destinations on one line (for --to's
// help): servers first, then offline exports.
func KindsHelp() string {
	var online, offline []string
	for _, k := range Kinds() {
		s := k.Name + " (" + k.Help + ")"
		if k.Offline {
			offline = append(offline, s)
		} else {
			online = append(online, s)
		}
	}
	return strings.Join(online, ", ") + "; with no server: " + strings.Join(offline, ", ")
}
