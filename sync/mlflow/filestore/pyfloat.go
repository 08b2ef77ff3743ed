package filestore

import (
	"math"
	"strconv"
	"strings"
)

// pyFloat is Python's str() of a float, which MLflow's FileStore writes
// into metric files (f"{metric.timestamp} {metric.value} {metric.step}"):
// the shortest round-tripping digits, fixed notation for exponents -4 to
// 15, scientific otherwise ("1e-05"). It is sync.PyFloat, repeated here
// because this package imports nothing from the rest of the project.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
