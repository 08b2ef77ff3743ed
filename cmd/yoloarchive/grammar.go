package main

import (
	"reflect"
	"strings"
	"unicode"

	"github.com/alecthomas/kong"
)

// kong builds its model of the command line from the grammar's struct
// tags at every start, one character at a time: for all nine commands
// that was the biggest single cost of --version. A command line that
// plainly names a command gets a grammar of the global flags and that
// command alone; one that asks only for --version gets the global flags
// alone. Anything else (no command, an unknown word, --help at the top,
// "--"), and any command line the small grammar does not accept, is
// parsed with the whole CLI, so help texts and errors are kong's own.

// narrow is false in tests that compare the small grammars' answers with
// the whole CLI's.
var narrow = true

// grammar is what kong parses into: a pointer to a struct embedding
// Globals first, and the Globals inside it.
type grammar struct {
	target  any
	globals *Globals
}

// fullGrammar is the whole command line.
func fullGrammar() grammar {
	cli := new(CLI)
	return grammar{target: cli, globals: &cli.Globals}
}

// narrowGrammar returns the grammar of the global flags and the command
// args name, or of the global flags alone when args hold only global
// flags, --version among them. ok is false when args must be parsed with
// the whole CLI.
func narrowGrammar(args []string) (g grammar, ok bool) {
	if !narrow {
		return grammar{}, false
	}
	cmd, version, ok := scanArgs(args)
	if !ok || (cmd == nil && !version) {
		return grammar{}, false
	}
	if cmd == nil {
		// A type of its own: reflect.StructOf costs ~0.2 ms at a start.
		v := new(globalsOnly)
		return grammar{target: v, globals: &v.Globals}, true
	}
	fields := []reflect.StructField{reflect.TypeFor[CLI]().Field(0), *cmd} // Globals, embedded, first
	for i := range fields {
		fields[i].Offset, fields[i].Index = 0, nil
	}
	v := reflect.New(reflect.StructOf(fields))
	return grammar{target: v.Interface(), globals: v.Elem().Field(0).Addr().Interface().(*Globals)}, true
}

// globalsOnly is the grammar of the global flags alone: CLI without its
// commands.
type globalsOnly struct {
	Globals
}

// scanArgs reads the global flags at the head of args up to the first
// word, as kong does, and returns the CLI field of the command that word
// names (nil when args end first) and whether --version was given. ok is
// false at anything it does not know: a flag that is not global, an
// unknown word, "--", or --help before any command.
func scanArgs(args []string) (cmd *reflect.StructField, version, ok bool) {
	flags := globalFlags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--" || a == "-":
			return nil, false, false
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			f, known := flags.long[name]
			if !known || f.help {
				return nil, false, false
			}
			version = version || f.version
			if f.value && !hasValue {
				i++ // the next word is the value
			}
		case strings.HasPrefix(a, "-"):
			for j, r := range a[1:] {
				f, known := flags.short[r]
				if !known || f.help {
					return nil, false, false
				}
				if f.value {
					if j == len(a)-2 {
						i++ // -x VALUE; else -xVALUE
					}
					break
				}
			}
		default:
			c, found := commandField(a)
			if !found {
				return nil, false, false
			}
			return &c, version, true
		}
	}
	return nil, version, true
}

// globalFlag is what scanArgs needs to know of a global flag.
type globalFlag struct {
	value   bool // it takes a value
	version bool // --version
	help    bool // --help
}

// globalFlagSet holds the global flags by long and short name.
type globalFlagSet struct {
	long  map[string]globalFlag
	short map[rune]globalFlag
}

// globalFlags lists the flags of Globals, and kong's --help, as kong names
// them (TestGlobalFlags_AsKongNamesThem checks).
func globalFlags() globalFlagSet {
	help := globalFlag{help: true}
	s := globalFlagSet{long: map[string]globalFlag{"help": help}, short: map[rune]globalFlag{'h': help}}
	t := reflect.TypeFor[Globals]()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Tag.Get("kong") == "-" {
			continue
		}
		f := globalFlag{value: sf.Type.Kind() != reflect.Bool, version: sf.Type == reflect.TypeFor[kong.VersionFlag]()}
		name := sf.Tag.Get("name")
		if name == "" {
			name = dashed(sf.Name)
		}
		s.long[name] = f
		if short := []rune(sf.Tag.Get("short")); len(short) == 1 {
			s.short[short[0]] = f
		}
	}
	return s
}

// commandField returns the field of CLI for the command (or alias) word.
func commandField(word string) (reflect.StructField, bool) {
	t := reflect.TypeFor[CLI]()
	for i := range t.NumField() {
		sf := t.Field(i)
		if _, isCmd := sf.Tag.Lookup("cmd"); !isCmd {
			continue
		}
		name := sf.Tag.Get("name")
		if name == "" {
			name = dashed(sf.Name)
		}
		if word == name {
			return sf, true
		}
		for alias := range strings.SplitSeq(sf.Tag.Get("aliases"), ",") {
			if alias != "" && word == alias {
				return sf, true
			}
		}
	}
	return reflect.StructField{}, false
}

// dashed is kong's default name of a field: "ProgressInterval" becomes
// "progress-interval" (ASCII names; runs of capitals stay one word).
func dashed(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
