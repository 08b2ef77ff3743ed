package archive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrOverBudget means reading an archive would take more than its budget
// (see [Limits]): the error names the archive, the entry and the limit,
// and how to raise it.
var ErrOverBudget = errors.New("archive: over budget")

// Default budget. They fit the largest real runs with room to spare: a
// 1,000-epoch run logs about 60k scalar rows (8.4's ~60 columns), 10k
// stored images make 10k image rows and a few million annotation rows,
// weights are a few GB per checkpoint, and the largest value of any table
// (a mask's RLE string, a console line, an args.yaml) is far under a MB.
const (
	DefaultMaxEntryBytes = 64 << 30   // one entry: a multi-GB checkpoint, 16 times over
	DefaultMaxTotalBytes = 1 << 40    // all entries: 10k images and many checkpoints
	DefaultMaxTableBytes = 1 << 30    // all tables, spooled in memory and temporary files: 10 times the largest real run
	DefaultMaxRows       = 10_000_000 // rows of one table
	DefaultMaxValueBytes = 64 << 20   // one Parquet page (so one value) decoded
	DefaultMaxPixels     = 1 << 28    // one image decoded (16384×16384)

	// A session zip: thousands of files and gigabytes of weights pass;
	// weights and images barely compress and JSON logs 5 to 20 times, so
	// a whole session stays far under 100:1.
	DefaultMaxZipEntries    = 1 << 20   // entries of one zip
	DefaultMaxZipBytes      = 256 << 30 // bytes all entries declare
	DefaultMaxZipRatio      = 1000      // uncompressed:compressed of an entry over 1 MiB
	DefaultMaxZipTotalRatio = 100       // of all entries, once they declare over 64 MiB
)

// budgetKeys are the names of the limits in a budget spec, in the order
// the help lists them.
var budgetKeys = []string{"entry", "total", "tables", "rows", "value", "pixels",
	"zip-entries", "zip-total", "zip-ratio", "zip-ratio-all"}

// countKeys are the keys whose limits are counts, not bytes.
var countKeys = map[string]bool{"rows": true, "pixels": true, "zip-entries": true, "zip-ratio": true, "zip-ratio-all": true}

// field returns a pointer to the limit a spec key names.
func (l *Limits) field(key string) *int64 {
	switch key {
	case "entry":
		return &l.MaxEntryBytes
	case "total":
		return &l.MaxTotalBytes
	case "tables":
		return &l.MaxTableBytes
	case "rows":
		return &l.MaxRows
	case "value":
		return &l.MaxValueBytes
	case "pixels":
		return &l.MaxPixels
	case "zip-entries":
		return &l.MaxZipEntries
	case "zip-total":
		return &l.MaxZipBytes
	case "zip-ratio":
		return &l.MaxZipRatio
	case "zip-ratio-all":
		return &l.MaxZipTotalRatio
	}
	return nil
}

// ParseBudget parses a budget spec: comma-separated key=value pairs
// raising or lowering the default limits, e.g. "rows=50M,tables=32GiB".
// Keys: entry, total, tables (bytes), rows, value (bytes), pixels, and
// for session zips zip-entries, zip-total (bytes), zip-ratio and
// zip-ratio-all. Values
// take the suffixes k, M, G, T (powers of 1000) or KiB, MiB, GiB, TiB
// (powers of 1024). An empty spec gives the defaults.
func ParseBudget(spec string) (Limits, error) {
	var l Limits
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		key, val, ok := strings.Cut(kv, "=")
		p := l.field(strings.TrimSpace(key))
		if !ok || p == nil {
			return Limits{}, fmt.Errorf("budget %q: want key=value pairs with keys %s", kv, strings.Join(budgetKeys, ", "))
		}
		n, err := parseAmount(strings.TrimSpace(val))
		if err != nil {
			return Limits{}, fmt.Errorf("budget %q: %v", kv, err)
		}
		*p = n
	}
	return l.withDefaults(), nil
}

// parseAmount parses a positive count with an optional unit suffix.
func parseAmount(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a positive amount (e.g. 500M, 16GiB)", s)
	}
	return n * mult, nil
}

// formatAmount writes a byte amount with the largest binary unit that
// divides it, and a count (rows, pixels) as a plain number.
func formatAmount(key string, n int64) string {
	if countKeys[key] {
		return strconv.FormatInt(n, 10)
	}
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// String returns the limits as a budget spec that ParseBudget reads back.
func (l Limits) String() string {
	l = l.withDefaults()
	var parts []string
	for _, k := range budgetKeys {
		parts = append(parts, k+"="+formatAmount(k, *l.field(k)))
	}
	return strings.Join(parts, ",")
}

// OverBudget returns the error, wrapping [ErrOverBudget], for an amount
// got (what) over the limit of the budget key: it names the limit and the
// --budget setting that allows the amount. Other packages enforcing a key
// of the budget (session zips) report with it.
func OverBudget(what string, got int64, key string, limit int64) error {
	return overBudget(what, got, key, limit)
}

// overBudget returns the error for an amount over the limit the key names:
// what was asked, the limit, and the --budget setting that allows it.
func overBudget(what string, got int64, key string, limit int64) error {
	raise := limit * 2
	for raise < got && raise < 1<<61 {
		raise *= 2
	}
	return fmt.Errorf("%w: %s %d is over the limit %s=%s (raise it with --budget %s=%s)",
		ErrOverBudget, what, got, key, formatAmount(key, limit), key, formatAmount(key, raise))
}

// WithDefaults returns l with each limit left at zero set to its default.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

type budgetKey struct{}

// WithBudget returns a context whose archive reads ([Open], [Verify] and
// the readers built on them) use the limits l: one budget for every
// command, set once from the command line.
func WithBudget(ctx context.Context, l Limits) context.Context {
	return context.WithValue(ctx, budgetKey{}, l.withDefaults())
}

// BudgetFrom returns the budget [WithBudget] set on ctx, or the defaults.
func BudgetFrom(ctx context.Context) Limits {
	if l, ok := ctx.Value(budgetKey{}).(Limits); ok {
		return l
	}
	return Limits{}.withDefaults()
}

// CheckPixels returns an error wrapping [ErrOverBudget] when an image of
// width×height (read from its header) has more pixels than MaxPixels:
// callers check it before decoding the image.
func (l Limits) CheckPixels(width, height int) error {
	l = l.withDefaults()
	if px := int64(width) * int64(height); width < 0 || height < 0 || px > l.MaxPixels {
		return overBudget(fmt.Sprintf("image of %d×%d", width, height), px, "pixels", l.MaxPixels)
	}
	return nil
}
