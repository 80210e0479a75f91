package exec

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Exact DECIMAL arithmetic on decimal128.Num values (unscaled integers). Results that do not fit
// 38 digits, or the precision of their type, are reported as errors, never wrapped.

var bigTen38 = new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil)

func decParams(t arrow.DataType) (prec, scale int32) {
	d := t.(*arrow.Decimal128Type)
	return d.Precision, d.Scale
}

func fitsI64(a decimal128.Num) bool {
	hi, lo := a.HighBits(), a.LowBits()
	return (hi == 0 && lo>>63 == 0) || (hi == -1 && lo>>63 == 1)
}

// bigToDec converts r to a Num when it has at most 38 digits.
func bigToDec(r *big.Int) (decimal128.Num, bool) {
	if r.CmpAbs(bigTen38) >= 0 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(r), true
}

func mulInt64(x, y int64) (int64, bool) {
	if x == 0 || y == 0 {
		return 0, true
	}
	hi, lo := bits.Mul64(uint64(absI64(x)), uint64(absI64(y)))
	if hi != 0 || lo > math.MaxInt64 || x == math.MinInt64 || y == math.MinInt64 {
		return 0, false
	}
	if (x < 0) != (y < 0) {
		return -int64(lo), true
	}
	return int64(lo), true
}

func absI64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func decAdd(a, b decimal128.Num) (decimal128.Num, bool) {
	if fitsI64(a) && fitsI64(b) {
		x, y := int64(a.LowBits()), int64(b.LowBits())
		r := x + y
		if (x^r)&(y^r) >= 0 {
			return decimal128.FromI64(r), true
		}
	}
	return bigToDec(new(big.Int).Add(a.BigInt(), b.BigInt()))
}

func decMul(a, b decimal128.Num) (decimal128.Num, bool) {
	if fitsI64(a) && fitsI64(b) {
		if r, ok := mulInt64(int64(a.LowBits()), int64(b.LowBits())); ok {
			return decimal128.FromI64(r), true
		}
	}
	return bigToDec(new(big.Int).Mul(a.BigInt(), b.BigInt()))
}

// decRescale changes the scale of v from `from` to `to`, rounding half away from zero when digits
// are dropped. ok is false when the result exceeds 38 digits.
func decRescale(v decimal128.Num, from, to int32) (decimal128.Num, bool) {
	switch {
	case to == from:
		return v, true
	case to > from:
		return decMul(v, decimal128.GetScaleMultiplier(int(to-from)))
	}
	if from-to > 38 {
		return decimal128.Num{}, true
	}
	return v.ReduceScaleBy(from-to, true), true
}

// decDivRound returns round(num/den) half away from zero; den must not be zero.
func decDivRound(num, den *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Sign() != 0 {
		r2 := new(big.Int).Abs(r)
		r2.Lsh(r2, 1)
		if r2.CmpAbs(den) >= 0 {
			if (num.Sign() < 0) != (den.Sign() < 0) {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return q
}

// checkPrecision returns the "numeric field overflow" error when v does not fit DECIMAL(prec, scale).
func checkPrecision(v decimal128.Num, prec, scale int32) error {
	if !v.FitsInPrecision(prec) {
		return fmt.Errorf("numeric field overflow: %s does not fit DECIMAL(%d,%d)", decString(v, scale), prec, scale)
	}
	return nil
}

func decString(v decimal128.Num, scale int32) string { return v.ToString(scale) }

// parseDecimal parses a decimal literal ("-12.345", "1e3", ".5") exactly and rounds it half away
// from zero to scale digits. ok is false when the text is not a number or the value has more
// than 38 digits.
func parseDecimal(s string, scale int32) (decimal128.Num, bool) {
	s = strings.TrimSpace(s)
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return decimal128.Num{}, false
		}
		mant, exp = s[:i], e
	}
	neg := false
	if mant != "" && (mant[0] == '+' || mant[0] == '-') {
		neg = mant[0] == '-'
		mant = mant[1:]
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" && frac == "" {
		return decimal128.Num{}, false
	}
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return decimal128.Num{}, false
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	if len(digits) > 80 {
		return decimal128.Num{}, false
	}
	v, _ := new(big.Int).SetString(digits, 10)
	// value = v * 10^(exp - len(frac)); we want it scaled by 10^scale.
	shift := exp - len(frac) + int(scale)
	if shift >= 0 {
		if shift > 80 && v.Sign() != 0 {
			return decimal128.Num{}, false
		}
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	} else {
		if -shift > 120 {
			v.SetInt64(0)
		} else {
			v = decDivRound(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-shift)), nil))
		}
	}
	if neg {
		v.Neg(v)
	}
	return bigToDec(v)
}

// floatToDecimal converts f to a decimal with the given scale via its 15-significant-digit text,
// like PostgreSQL's float8 -> numeric cast.
func floatToDecimal(f float64, scale int32) (decimal128.Num, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decimal128.Num{}, false
	}
	return parseDecimal(strconv.FormatFloat(f, 'g', 15, 64), scale)
}

// decToInt64 rounds v (with the given scale) half away from zero to an integer.
func decToInt64(v decimal128.Num, scale int32) (int64, bool) {
	r, _ := decRescale(v, scale, 0)
	if !fitsI64(r) {
		return 0, false
	}
	return int64(r.LowBits()), true
}

func decToFloat(v decimal128.Num, scale int32) float64 {
	f, _ := strconv.ParseFloat(v.ToString(scale), 64)
	return f
}
