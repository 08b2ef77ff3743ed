package convert_test

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

// resultsFiles returns every results.csv under testdata.
func resultsFiles(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.Walk("../testdata", func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "results.csv" {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) < 25 {
		t.Fatalf("found %d results.csv files under testdata (%v)", len(out), err)
	}
	return out
}

// readCSVIndependently parses a results.csv with encoding/csv, as a check
// on ParseResults: every value must agree bit for bit.
func readCSVIndependently(t *testing.T, p string) ([]string, [][]float64) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	for _, rec := range recs[1:] {
		var vals []float64
		for _, s := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			vals = append(vals, v)
		}
		rows = append(rows, vals)
	}
	return recs[0], rows
}

func TestParseResults_Fixtures(t *testing.T) {
	for _, p := range resultsFiles(t) {
		name := filepath.Base(filepath.Dir(p))
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := convert.ParseResults(f, p)
			if err != nil {
				t.Fatal(err)
			}
			header, rows := readCSVIndependently(t, p)
			if got, want := len(res.Rows), len(rows); got != want {
				t.Fatalf("rows = %d, want %d", got, want)
			}
			if got, want := len(res.Columns), len(header)-1; got != want {
				t.Fatalf("columns = %d, want %d", got, want)
			}
			for i, row := range res.Rows {
				if float64(row.CSVEpoch) != rows[i][0] {
					t.Fatalf("row %d: epoch %d, want %v", i, row.CSVEpoch, rows[i][0])
				}
				if row.Epoch != row.CSVEpoch+1-int64(res.EpochBase) || (i == 0 && row.Epoch != 1) {
					t.Fatalf("row %d: normalized epoch %d (csv %d, base %d)", i, row.Epoch, row.CSVEpoch, res.EpochBase)
				}
				for j, v := range row.Values {
					if math.Float64bits(v) != math.Float64bits(rows[i][j+1]) {
						t.Fatalf("row %d column %s: %v, want %v bit for bit", i, res.Columns[j], v, rows[i][j+1])
					}
				}
			}
			wantDialect := convert.DialectPlain
			switch {
			case strings.Contains(p, "yolov5"):
				wantDialect = convert.DialectYOLOv5
			case strings.HasPrefix(header[0], " "), !res.HasColumn("time"):
				wantDialect = convert.DialectPadded
			}
			if res.Dialect != wantDialect {
				t.Errorf("dialect = %s, want %s", res.Dialect, wantDialect)
			}
			if wantDialect == convert.DialectPlain && res.Columns[0] != "time" {
				t.Errorf("plain dialect without a time column")
			}
		})
	}
}

func TestParseResults_EpochBase(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		base int
	}{
		{"A-Alviento__rock-paper-scissors-yolo-object-detection__runs__detect__train", 0}, // 8.0.93-109
		{"kaice88__Yolov8-pose__runs__pose__train", 0},                                    // 8.0.71-88
		{"483172__yolov5-custom_lego_dataset-2022-06-15__runs__train__exp", 0},            // YOLOv5
		{"AbdulRahmaan03__Yolov8-Custom-Dataset-Training__runs__detect__train", 1},
		{"vbalab__YOLO26s-pose-hands__runs__pose__train", 1},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			p := filepath.Join("../testdata/github-runs/public", tc.dir, "results.csv")
			f, _ := os.Open(p)
			defer f.Close()
			res, err := convert.ParseResults(f, p)
			if err != nil {
				t.Fatal(err)
			}
			if res.EpochBase != tc.base {
				t.Errorf("epoch base = %d, want %d", res.EpochBase, tc.base)
			}
		})
	}
}

func TestParseResults_Bad(t *testing.T) {
	const header = "epoch,time,train/box_loss,lr/pg0\n"
	for _, tc := range []struct {
		name, data, want string
	}{
		{"Empty", "", "empty"},
		{"Whitespace", " \n\n", "empty"},
		{"HeaderOnly", header, "no data rows"},
		{"NotResults", "a,b,c\n1,2,3\n", "epoch column"},
		{"Ragged", header + "1,2,3,4\n2,3,4\n3,4,5,6\n", "results.csv:3:"},
		{"NotANumber", header + "1,2,abc,4\n", "train/box_loss"},
		{"CutShort", header + "1,2,3,4\n2,3", "cut short"},
		{"DuplicateColumn", "epoch,a,a\n1,2,3\n", "duplicate"},
		{"FractionalEpoch", header + "1.5,2,3,4\n", "whole number"},
		{"Binary", "epoch,a\n\x00\x01\x02,\xff\n", "results.csv:2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := convert.ParseResults(strings.NewReader(tc.data), "results.csv")
			if !errors.Is(err, convert.ErrBadResults) {
				t.Fatalf("err = %v, want ErrBadResults", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "results.csv") {
				t.Errorf("error %q should name results.csv and say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

func TestParseResults_NonFinite(t *testing.T) {
	res, err := convert.ParseResults(strings.NewReader("epoch,time,a,b,c\n1,2,nan,inf,-inf\n2,3,NaN,Infinity,1e-05\n"), "r.csv")
	if err != nil {
		t.Fatal(err)
	}
	v := res.Rows[0].Values
	if !math.IsNaN(v[1]) || !math.IsInf(v[2], 1) || !math.IsInf(v[3], -1) {
		t.Errorf("non-finite values = %v", v)
	}
	if v := res.Rows[1].Values; !math.IsInf(v[2], 1) || v[3] != 1e-05 {
		t.Errorf("row 2 = %v", v)
	}
}

func FuzzParseResults(f *testing.F) {
	for _, p := range resultsFiles(f)[:6] {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("epoch,time,a\n1,2,3\n2,3"))
	f.Add([]byte("epoch\n0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := convert.ParseResults(strings.NewReader(string(data)), "results.csv")
		if err != nil {
			if !errors.Is(err, convert.ErrBadResults) && !strings.Contains(err.Error(), "read") {
				t.Fatalf("error does not wrap ErrBadResults: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if len(res.Rows) == 0 {
			t.Fatal("accepted a file without rows")
		}
		for _, row := range res.Rows {
			if len(row.Values) != len(res.Columns) {
				t.Fatalf("row of %d values for %d columns", len(row.Values), len(res.Columns))
			}
		}
	})
}

// TestParseResults_Overflow: the spellings Python's %g writes for a
// diverged run (nan, inf, -inf) are kept as IEEE values; a finite
// spelling beyond float64 (1e999) is an error naming the file, line and
// column, never a silent +Inf (issue 15).
func TestParseResults_Overflow(t *testing.T) {
	const header = "epoch,time,train/box_loss\n"
	for _, tc := range []struct {
		name, cell string
		want       float64 // NaN for nan
		err        string
	}{
		{"nan", "nan", math.NaN(), ""},
		{"inf", "inf", math.Inf(1), ""},
		{"-inf", "-inf", math.Inf(-1), ""},
		{"Overflow", "1e999", 0, `results.csv:3: convert: bad results.csv: column train/box_loss: "1e999" is beyond the float64 range`},
		{"NegativeOverflow", "-1e999", 0, `results.csv:3: convert: bad results.csv: column train/box_loss: "-1e999" is beyond`},
		{"Underflow", "1e-999", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := header + "1,10.5,0.5\n2,21," + tc.cell + "\n"
			res, err := convert.ParseResults(strings.NewReader(data), "results.csv")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := res.Rows[1].Values[1]
			if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && got != tc.want {
				t.Errorf("value = %v, want %v", got, tc.want)
			}
		})
	}
}
