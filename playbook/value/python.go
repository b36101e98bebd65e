package value

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FloatRepr is Python's repr of a float: the shortest digits that round
// trip, fixed notation for exponents from -4 to 15, always with a dot or
// an exponent, and inf, -inf, nan.
func FloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// JSONFloat is a float as Python's json.dumps writes it: its repr, with
// JavaScript's names for the infinities and NaN.
func JSONFloat(f float64) string {
	switch r := FloatRepr(f); r {
	case "inf":
		return "Infinity"
	case "-inf":
		return "-Infinity"
	case "nan":
		return "NaN"
	default:
		return r
	}
}
