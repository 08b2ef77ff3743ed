package convert

import (
	"math"
	"strings"

	"github.com/yoloarchive/yoloarchive/schemas"
)

// fitnessFunc computes a row's fitness, or reports that the columns it
// needs are missing.
type fitnessFunc func(res *Results, row ResultsRow) (float64, bool)

// fitnessFor returns the fitness formula of a run (ultralytics-runs.md
// §4.6): classify (top1+top5)/2; otherwise, per metric group (B, M, P),
// 0.1·mAP50 + 0.9·mAP50-95 up to 8.3.197 and mAP50-95 alone from 8.3.198,
// summed over the groups. YOLOv5 uses 0.1·mAP@0.5 + 0.9·mAP@0.5:0.95. It
// also returns a description of the formula, and whether the version range
// leaves the formula in doubt.
func fitnessFor(res *Results, vr *versionRange, yolov5 bool) (fitnessFunc, string, bool) {
	col := func(row ResultsRow, name string) (float64, bool) {
		i := res.Column(name)
		if i < 0 {
			return 0, false
		}
		return row.Values[i], true
	}
	if yolov5 {
		return func(_ *Results, row ResultsRow) (float64, bool) {
			a, ok1 := col(row, "metrics/mAP_0.5")
			b, ok2 := col(row, "metrics/mAP_0.5:0.95")
			return 0.1*a + 0.9*b, ok1 && ok2
		}, "0.1·mAP@0.5 + 0.9·mAP@0.5:0.95 (YOLOv5)", false
	}
	if res.HasColumn("metrics/accuracy_top1") {
		return func(_ *Results, row ResultsRow) (float64, bool) {
			a, ok1 := col(row, "metrics/accuracy_top1")
			b, ok2 := col(row, "metrics/accuracy_top5")
			return (a + b) / 2, ok1 && ok2
		}, "(top1 + top5) / 2", false
	}
	var groups []string
	for _, g := range []string{"B", "M", "P"} {
		if res.HasColumn("metrics/mAP50-95(" + g + ")") {
			groups = append(groups, g)
		}
	}
	newFormula := vr.from(version{8, 3, 198})
	doubtful := !newFormula && !vr.before(version{8, 3, 198})
	desc := "sum over " + strings.Join(groups, ", ") + " of 0.1·mAP50 + 0.9·mAP50-95 (up to 8.3.197)"
	if newFormula {
		desc = "sum over " + strings.Join(groups, ", ") + " of mAP50-95 (8.3.198 and later)"
	}
	return func(_ *Results, row ResultsRow) (float64, bool) {
		if len(groups) == 0 {
			return 0, false
		}
		var f float64
		for _, g := range groups {
			m5095, ok1 := col(row, "metrics/mAP50-95("+g+")")
			m50, ok2 := col(row, "metrics/mAP50("+g+")")
			if !ok1 || !ok2 {
				return 0, false
			}
			if newFormula {
				f += m5095
			} else {
				f += 0.1*m50 + 0.9*m5095
			}
		}
		return f, true
	}, desc, doubtful
}

// bestRow returns the index of the first row with the maximum fitness, as
// Ultralytics picks best.pt (a strictly greater fitness replaces the best),
// and that fitness. NaN fitness never wins.
func bestRow(res *Results, fit fitnessFunc) (int, float64, bool) {
	best, bestFit := -1, math.Inf(-1)
	for i, row := range res.Rows {
		f, ok := fit(res, row)
		if !ok {
			return -1, 0, false
		}
		if !math.IsNaN(f) && (best < 0 || f > bestFit) {
			best, bestFit = i, f
		}
	}
	return best, bestFit, best >= 0
}

// summaryRows returns the single values the callbacks log at the end of
// training, approximated from the best results.csv row: every metrics/*
// column and the fitness.
func summaryRows(res *Results, best int, fitness float64, formula string) []schemas.SummaryRow {
	row := res.Rows[best]
	epoch := row.Epoch
	origin := "results.csv line " + itoa(int64(row.Line)) + " (epoch of maximum fitness), approximating the final best.pt validation"
	var out []schemas.SummaryRow
	for i, c := range res.Columns {
		if strings.HasPrefix(c, "metrics/") {
			out = append(out, schemas.SummaryRow{Key: c, Value: row.Values[i], Epoch: &epoch, Exact: false, Origin: origin})
		}
	}
	out = append(out, schemas.SummaryRow{Key: "fitness", Value: fitness, Epoch: &epoch, Exact: false,
		Origin: "computed from " + "results.csv line " + itoa(int64(row.Line)) + ": " + formula})
	return out
}
