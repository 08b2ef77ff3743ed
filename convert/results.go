package convert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Results dialects (Results.Dialect), by the program and version that wrote
// the file.
const (
	// DialectPlain is Ultralytics 8.3.9 and later: plain names, a time
	// column after epoch, %.6g values.
	DialectPlain = "ultralytics-plain"
	// DialectPadded is Ultralytics 8.0.0 to 8.3.8: names and values
	// right-aligned to 23 characters, %23.5g values, no time column.
	DialectPadded = "ultralytics-padded"
	// DialectYOLOv5 is YOLOv5: names and values right-aligned to 20
	// characters, 0-based epochs, obj_loss and x/lr columns.
	DialectYOLOv5 = "yolov5"
)

// maxResultsSize caps the size of a results.csv that ParseResults reads.
const maxResultsSize = 256 << 20

// ErrBadResults is wrapped by every error ParseResults returns for a
// malformed file.
var ErrBadResults = errors.New("convert: bad results.csv")

// Results is a parsed results.csv.
type Results struct {
	// Dialect is one of the Dialect* constants.
	Dialect string
	// Columns are the column names after epoch, trimmed, in file order.
	Columns []string
	// Rows holds one entry per data line, in file order.
	Rows []ResultsRow
	// EpochBase is the epoch number of the first row in the file's own
	// numbering: 0 (Ultralytics before 8.0.162, YOLOv5) or 1.
	EpochBase int
}

// ResultsRow is one epoch's line of results.csv.
type ResultsRow struct {
	// Line is the 1-based line number in the file.
	Line int
	// CSVEpoch is the epoch column as written.
	CSVEpoch int64
	// Epoch is the 1-based epoch (CSVEpoch + 1 - EpochBase).
	Epoch int64
	// Values holds one value per column of Results.Columns, exactly as
	// strconv.ParseFloat reads the text (NaN and ±Inf included).
	Values []float64
}

// HasColumn reports whether the file has the named column.
func (r *Results) HasColumn(name string) bool { return r.Column(name) >= 0 }

// Column returns the index of the named column in Columns, or -1.
func (r *Results) Column(name string) int {
	for i, c := range r.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// ParseResults parses a results.csv written by any Ultralytics 8.x release
// or by YOLOv5. name is used in error messages, which name the line at
// fault. An empty file, a file without data rows, a ragged or non-numeric
// row, and a half-written last line are errors wrapping [ErrBadResults].
func ParseResults(r io.Reader, name string) (*Results, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResultsSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxResultsSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, ErrBadResults, maxResultsSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: %w: the file is empty (was the run stopped before its first epoch ended?)", name, ErrBadResults)
	}
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %w: %s", name, line, ErrBadResults, fmt.Sprintf(format, args...))
	}
	lines := strings.Split(string(data), "\n")
	complete := strings.HasSuffix(string(data), "\n")
	if complete {
		lines = lines[:len(lines)-1]
	}
	header := splitFields(lines[0])
	if len(header) < 2 || header[0] != "epoch" {
		return nil, bad(1, "the header does not start with an epoch column (is this a results.csv?)")
	}
	res := &Results{Columns: header[1:], Dialect: dialect(lines[0], header)}
	seen := map[string]bool{}
	for _, c := range header {
		if c == "" || seen[c] || !printable(c) {
			return nil, bad(1, "empty, duplicate or unprintable column name %q", c)
		}
		seen[c] = true
	}
	for i := 1; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := splitFields(line)
		last := i == len(lines)-1 && !complete
		if len(fields) != len(header) {
			if last {
				return nil, bad(i+1, "the last line is cut short (%d of %d fields): the file may still be being written", len(fields), len(header))
			}
			return nil, bad(i+1, "%d fields, the header has %d", len(fields), len(header))
		}
		row := ResultsRow{Line: i + 1, Values: make([]float64, len(fields)-1)}
		ep, err := strconv.ParseFloat(fields[0], 64)
		if err != nil || ep != math.Trunc(ep) || ep < 0 || ep > 1e9 {
			return nil, bad(i+1, "epoch %q is not a whole number", fields[0])
		}
		row.CSVEpoch = int64(ep)
		for j, f := range fields[1:] {
			v, err := strconv.ParseFloat(f, 64)
			if errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0) {
				// Python writes an infinite value as inf (kept, as nan
				// is): a finite spelling beyond float64 is damage,
				// never a silent ±Inf.
				return nil, bad(i+1, "column %s: %q is beyond the float64 range (Ultralytics writes an infinite value as inf): the file is damaged", header[j+1], f)
			}
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, bad(i+1, "column %s: %q is not a number", header[j+1], f)
			}
			row.Values[j] = v
		}
		res.Rows = append(res.Rows, row)
	}
	if len(res.Rows) == 0 {
		return nil, bad(len(lines), "a header but no data rows (Ultralytics writes both at once, so the file is damaged)")
	}
	if res.Rows[0].CSVEpoch == 0 {
		res.EpochBase = 0
	} else {
		res.EpochBase = 1
	}
	for i := range res.Rows {
		res.Rows[i].Epoch = res.Rows[i].CSVEpoch + 1 - int64(res.EpochBase)
	}
	return res, nil
}

// splitFields splits a CSV line on commas and trims the padding the old
// formats use. Ultralytics never quotes fields.
func splitFields(line string) []string {
	fields := strings.Split(strings.TrimSuffix(line, "\r"), ",")
	for i, f := range fields {
		fields[i] = strings.TrimSpace(f)
	}
	return fields
}

// dialect tells which program and version wrote a header line.
func dialect(line string, header []string) string {
	for _, c := range header {
		if c == "train/obj_loss" || strings.HasPrefix(c, "x/lr") {
			return DialectYOLOv5
		}
	}
	if strings.HasPrefix(line, " ") {
		return DialectPadded
	}
	return DialectPlain
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// KeepLastPerEpoch resolves a resumed run's results.csv, where a resume
// writes epochs again that an interrupted run had already written: for
// each epoch the last row in the file wins, and the rows are put in epoch
// order. It returns how many rows it dropped and their line numbers, in a
// compact form ("12-15, 31").
func (r *Results) KeepLastPerEpoch() (int, string) {
	last := map[int64]int{}
	for i, row := range r.Rows {
		last[row.Epoch] = i
	}
	var kept []ResultsRow
	var dropped []int
	for i, row := range r.Rows {
		if last[row.Epoch] == i {
			kept = append(kept, row)
		} else {
			dropped = append(dropped, row.Line)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Epoch < kept[j].Epoch })
	r.Rows = kept
	return len(dropped), lineRanges(dropped)
}

// lineRanges writes sorted line numbers as ranges: "12-15, 31".
func lineRanges(lines []int) string {
	var parts []string
	for i := 0; i < len(lines); {
		j := i
		for j+1 < len(lines) && lines[j+1] == lines[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(lines[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", lines[i], lines[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
