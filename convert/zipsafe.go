package convert

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/archive/scratch"
)

// ZipLimits bound what extracting a session zip may write.
type ZipLimits struct {
	// MaxEntries is the most entries a zip may hold.
	MaxEntries int
	// MaxTotal is the most bytes all entries may declare together.
	MaxTotal int64
	// MaxRatio is the largest uncompressed/compressed ratio allowed for an
	// entry over 1 MiB (a zip bomb compresses far better than any model,
	// image or JSON file).
	MaxRatio int64
	// MaxTotalRatio is the largest ratio allowed for all entries together
	// once they declare more than 64 MiB: many small entries that each
	// pass MaxRatio (3,000 entries of exactly 1 MiB) are still a bomb.
	MaxTotalRatio int64
}

// zipRatioFloor is how many bytes a zip may declare in all whatever its
// ratio: small sessions of highly compressible JSON are fine.
const zipRatioFloor = 64 << 20

// DefaultZipLimits are generous for real sessions (thousands of files,
// gigabytes of weights) and refuse zip bombs: the zip keys of the default
// budget (see [archive.Limits]).
var DefaultZipLimits = ZipLimitsOf(archive.Limits{})

// ZipLimitsOf returns the zip extraction limits of a budget: its keys
// zip-entries, zip-total, zip-ratio and zip-ratio-all.
func ZipLimitsOf(l archive.Limits) ZipLimits {
	l = l.WithDefaults()
	return ZipLimits{MaxEntries: int(l.MaxZipEntries), MaxTotal: l.MaxZipBytes, MaxRatio: l.MaxZipRatio, MaxTotalRatio: l.MaxZipTotalRatio}
}

// ErrUnsafeZip means a zip holds an entry that could write outside the
// extraction directory, a link, or more data than the limits allow.
var ErrUnsafeZip = errors.New("unsafe zip")

// checkZipName refuses names that are absolute, contain "..", backslashes
// or NUL, or are empty.
func checkZipName(name string) error {
	switch {
	case name == "", strings.ContainsAny(name, "\\\x00"), strings.HasPrefix(name, "/"),
		len(name) > 1 && name[1] == ':':
		return fmt.Errorf("entry %q: %w: absolute or malformed path", name, ErrUnsafeZip)
	}
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." {
			return fmt.Errorf("entry %q: %w: it climbs out of the zip (a \"..\" component)", name, ErrUnsafeZip)
		}
	}
	return nil
}

// checkZip checks every entry of zr against the limits before anything
// is written.
func checkZip(zr *zip.Reader, lim ZipLimits) error {
	if len(zr.File) > lim.MaxEntries {
		return fmt.Errorf("%w: %w", ErrUnsafeZip, archive.OverBudget("entries", int64(len(zr.File)), "zip-entries", int64(lim.MaxEntries)))
	}
	// The bytes declared in all, summed first so that the error gives the
	// setting that lets this zip through, not just its first entries.
	var declared uint64
	for _, f := range zr.File {
		declared = min(declared+min(f.UncompressedSize64, 1<<62), 1<<62)
	}
	if declared > uint64(lim.MaxTotal) {
		return fmt.Errorf("%w: the %d entries declare more than %d bytes in all: %w", ErrUnsafeZip, len(zr.File), lim.MaxTotal,
			archive.OverBudget("bytes declared", clampInt64(declared), "zip-total", lim.MaxTotal))
	}
	var total, packed uint64
	seen := map[string]bool{}
	for _, f := range zr.File {
		if err := checkZipName(f.Name); err != nil {
			return err
		}
		mode := f.Mode()
		if mode&os.ModeSymlink != 0 || (!mode.IsRegular() && !mode.IsDir()) {
			return fmt.Errorf("entry %q: %w: a link or special file (%v)", f.Name, ErrUnsafeZip, mode.Type())
		}
		clean := path.Clean(f.Name)
		if seen[clean] {
			return fmt.Errorf("entry %q: %w: the name appears twice", f.Name, ErrUnsafeZip)
		}
		seen[clean] = true
		total += f.UncompressedSize64
		packed += f.CompressedSize64
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > f.CompressedSize64*uint64(lim.MaxRatio) {
			return fmt.Errorf("entry %q: %w: %d bytes compressed to %d (a zip bomb?): %w", f.Name, ErrUnsafeZip, f.UncompressedSize64, f.CompressedSize64,
				archive.OverBudget("ratio", clampInt64(f.UncompressedSize64/max(f.CompressedSize64, 1)), "zip-ratio", lim.MaxRatio))
		}
	}
	if lim.MaxTotalRatio > 0 && total > zipRatioFloor && total/max(packed, 1) > uint64(lim.MaxTotalRatio) {
		return fmt.Errorf("%w: %d entries declare %d bytes in all, which compress to %d (a zip bomb?): %w",
			ErrUnsafeZip, len(zr.File), total, packed, archive.OverBudget("ratio of all entries", clampInt64(total/max(packed, 1)), "zip-ratio-all", lim.MaxTotalRatio))
	}
	return nil
}

// extractZip checks the zip at src and extracts it into a new temporary
// directory, which the caller must remove. Nothing is left behind on
// error. archive/zip itself refuses an entry whose data is longer or
// shorter than declared, or whose CRC differs.
func extractZip(ctx context.Context, src string, lim ZipLimits) (dir string, err error) {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return "", fmt.Errorf("%s: not a readable zip: %v (copy it again; a download cut short loses the zip's directory at the end)", src, err)
	}
	defer zr.Close()
	if err := checkZip(&zr.Reader, lim); err != nil {
		return "", fmt.Errorf("%s: %w (refusing to extract it)", src, err)
	}
	tmp, err := scratch.Mkdir("", "yoloarchive-session")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			scratch.Remove(tmp)
		}
	}()
	dir = tmp
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path.Clean(f.Name)))
		if f.Mode().IsDir() || strings.HasSuffix(f.Name, "/") {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := extractEntry(ctx, f, dst); err != nil {
			return "", fmt.Errorf("%s: entry %q: %v (the zip is damaged; copy it again)", src, f.Name, err)
		}
	}
	return dir, nil
}

func extractEntry(ctx context.Context, f *zip.File, dst string) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	// One byte more than declared is read so that a lying header shows.
	n, err := io.Copy(out, io.LimitReader(archive.ContextReader(ctx, rc), int64(f.UncompressedSize64)+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && uint64(n) != f.UncompressedSize64 {
		err = fmt.Errorf("%d bytes, the zip declares %d", n, f.UncompressedSize64)
	}
	return err
}

// MaxSessionLine is the longest line a session's JSON-lines file may have
// (the ClearML SDK splits its batches at 15 MiB).
const MaxSessionLine = 64 << 20

// BrokenLines counts the lines of a JSON-lines file that could not be
// parsed, and remembers the first.
type BrokenLines struct {
	// N is the number of skipped lines.
	N int
	// First describes the first skipped line: "line 12: <error>".
	First string
}

// Add records the broken line numbered line, err saying why.
func (b *BrokenLines) Add(line int, err error) {
	if b.N == 0 {
		b.First = fmt.Sprintf("line %d: %v", line, err)
	}
	b.N++
}

// ReadLines calls fn with each non-empty line of r (without its newline)
// and its 1-based number. A line longer than max is passed to broken and
// skipped; the lines after it are still read. fn's error stops the read.
func ReadLines(r io.Reader, max int, fn func(line []byte, n int) error, broken func(n int, err error)) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var buf []byte
	long, partial := false, false
	n := 0
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err == io.EOF && partial {
			// The last line has no newline and filled the buffer exactly.
			chunk, isPrefix, err = nil, false, nil
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if isPrefix || partial {
			if !long && len(buf)+len(chunk) <= max {
				buf = append(buf, chunk...)
			} else {
				long, buf = true, buf[:0]
			}
			if partial = isPrefix; partial {
				continue
			}
			chunk = buf
			buf = nil
		}
		n++
		if long || len(chunk) > max {
			long = false
			broken(n, fmt.Errorf("longer than %d bytes", max))
			continue
		}
		if len(strings.TrimSpace(string(chunk))) == 0 {
			continue
		}
		if err := fn(chunk, n); err != nil {
			return err
		}
	}
}

// clampInt64 returns n as an int64, at most the largest one.
func clampInt64(n uint64) int64 { return int64(min(n, 1<<63-1)) }
