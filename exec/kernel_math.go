package exec

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Math functions. abs, round, floor, ceil and sign keep the argument's type family (BIGINT,
// DOUBLE or DECIMAL); the transcendental functions work on DOUBLE and fail on arguments outside
// their domain with PostgreSQL's messages instead of returning NaN.
//
// round rounds half away from zero (PostgreSQL's NUMERIC rule), except round(DOUBLE) with one
// argument, which rounds half to even like PostgreSQL's round(float8). round(DOUBLE, d) rounds the shortest decimal text of the
// value, so round(2.675, 2) is 2.68. round(DECIMAL(p,s), d) has type DECIMAL(p+1,s): the digits
// after d are zero, the scale (and so the printed form) is unchanged, and a carry fits.

func init() {
	dbl := func(name string, f func(float64) (float64, error)) {
		registerOverloads(name, name+"(x DOUBLE)", overload{args: types(Float64), ret: Float64, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Float64, a[0], n, f)
		}})
	}
	dbl("sqrt", func(x float64) (float64, error) {
		if x < 0 {
			return 0, errors.New("cannot take square root of a negative number")
		}
		return math.Sqrt(x), nil
	})
	dbl("cbrt", func(x float64) (float64, error) { return math.Cbrt(x), nil })
	logFn := func(f func(float64) float64) func(float64) (float64, error) {
		return func(x float64) (float64, error) {
			switch {
			case x == 0:
				return 0, errors.New("cannot take logarithm of zero")
			case x < 0:
				return 0, errors.New("cannot take logarithm of a negative number")
			}
			return f(x), nil
		}
	}
	dbl("ln", logFn(math.Log))
	dbl("log10", logFn(math.Log10))
	dbl("log", logFn(math.Log10))
	dbl("exp", func(x float64) (float64, error) {
		r := math.Exp(x)
		if math.IsInf(r, 0) && !math.IsInf(x, 0) {
			return 0, errors.New("value out of range: overflow")
		}
		return r, nil
	})
	powK := func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return map2(ctx, Float64, a[0], a[1], n, func(x, y float64) (float64, error) {
			if x == 0 && y < 0 {
				return 0, errors.New("zero raised to a negative power is undefined")
			}
			if x < 0 && y != math.Trunc(y) {
				return 0, errors.New("a negative number raised to a non-integer power yields a complex result")
			}
			r := math.Pow(x, y)
			if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
				return 0, errors.New("value out of range: overflow")
			}
			return r, nil
		})
	}
	registerOverloads("power", "power(x DOUBLE, y DOUBLE)", overload{args: types(Float64, Float64), ret: Float64, k: powK})
	registerOverloads("pow", "pow(x DOUBLE, y DOUBLE)", overload{args: types(Float64, Float64), ret: Float64, k: powK})
	registerOverloads("pi", "pi()", overload{args: types(), ret: Float64, k: func(ctx *Ctx, _ []arrow.Array, n int) (arrow.Array, error) {
		return ConstantArray(ctx.Mem, Float64, math.Pi, n)
	}})
	register(&Function{Name: "mod", Usage: "mod(a, b)", Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 2 || !numericOrNull(args[0]) || !numericOrNull(args[1]) {
			return nil, ArgTypeError("mod", "mod(a, b) for numbers", args)
		}
		b, err := BindCall("%", args)
		if err != nil {
			return nil, err
		}
		nb := *b
		nb.Infix = false
		return &nb, nil
	}})

	register(&Function{Name: "abs", Usage: "abs(x)", Bind: bindNumeric1("abs", absK)})
	register(&Function{Name: "sign", Usage: "sign(x)", Bind: bindNumeric1("sign", signK)})
	register(&Function{Name: "floor", Usage: "floor(x)", Bind: bindNumeric1("floor", roundingK(math.Floor, -1))})
	register(&Function{Name: "ceil", Usage: "ceil(x)", Bind: bindNumeric1("ceil", roundingK(math.Ceil, 1))})
	register(&Function{Name: "ceiling", Usage: "ceiling(x)", Bind: bindNumeric1("ceiling", roundingK(math.Ceil, 1))})
	register(&Function{Name: "round", Usage: "round(x[, digits BIGINT])", Bind: bindRound})
	register(&Function{Name: "trunc", Usage: "trunc(x DOUBLE)", Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 1 || !numericOrNull(args[0]) {
			return nil, ArgTypeError("trunc", "trunc(x DOUBLE)", args)
		}
		return &Bound{Args: types(Float64), Ret: Float64, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Float64, a[0], n, func(x float64) (float64, error) { return math.Trunc(x), nil })
		}}, nil
	}})
}

func numericOrNull(t arrow.DataType) bool { return IsNumeric(t) || t.ID() == arrow.NULL }

// numKernel computes a one-argument function for the argument type t, returning a result of its
// own choosing; bindNumeric1 asks it for the result type first (k(t, nil...)).
type numKernel func(t arrow.DataType) (arrow.DataType, Kernel)

func bindNumeric1(name string, k numKernel) func([]arrow.DataType) (*Bound, error) {
	return func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 1 || !numericOrNull(args[0]) {
			return nil, ArgTypeError(name, name+"(x BIGINT|DOUBLE|DECIMAL)", args)
		}
		t := args[0]
		if t.ID() == arrow.NULL {
			t = Float64
		}
		ret, kern := k(t)
		return &Bound{Args: types(t), Ret: ret, Kernel: kern}, nil
	}
}

func absK(t arrow.DataType) (arrow.DataType, Kernel) {
	switch t.ID() {
	case arrow.INT64:
		return t, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Int64, a[0], n, func(x int64) (int64, error) {
				if x == math.MinInt64 {
					return 0, errBigintRange
				}
				return absI64(x), nil
			})
		}
	case arrow.FLOAT64:
		return t, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Float64, a[0], n, func(x float64) (float64, error) { return math.Abs(x), nil })
		}
	}
	return t, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		x := a[0].(*array.Decimal128)
		return decimalsTo(ctx, t, a, n, func(i int) (decimal128.Num, error) { return x.Value(i).Abs(), nil })
	}
}

func signK(t arrow.DataType) (arrow.DataType, Kernel) {
	switch t.ID() {
	case arrow.INT64:
		return t, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Int64, a[0], n, func(x int64) (int64, error) { return int64(cmp3(x, 0)), nil })
		}
	case arrow.FLOAT64:
		return t, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Float64, a[0], n, func(x float64) (float64, error) {
				if math.IsNaN(x) {
					return x, nil
				}
				return float64(cmp3(x, 0)), nil
			})
		}
	}
	ret := Decimal(1, 0)
	return ret, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		x := a[0].(*array.Decimal128)
		return decimalsTo(ctx, ret, a, n, func(i int) (decimal128.Num, error) { return decimal128.FromI64(int64(x.Value(i).Sign())), nil })
	}
}

// roundingK is floor (dir -1) or ceil (dir 1). DECIMAL(p,s) gives DECIMAL(p-s+1, 0).
func roundingK(f func(float64) float64, dir int) numKernel {
	return func(t arrow.DataType) (arrow.DataType, Kernel) {
		switch t.ID() {
		case arrow.INT64:
			return t, func(_ *Ctx, a []arrow.Array, _ int) (arrow.Array, error) {
				a[0].Retain()
				return a[0], nil
			}
		case arrow.FLOAT64:
			return t, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				return map1(ctx, Float64, a[0], n, func(x float64) (float64, error) { return f(x), nil })
			}
		}
		p, s := decParams(t)
		ret := Decimal(min(38, p-s+1), 0)
		return ret, func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x := a[0].(*array.Decimal128)
			return decimalsTo(ctx, ret, a, n, func(i int) (decimal128.Num, error) {
				return decFloorCeil(x.Value(i), s, dir), nil
			})
		}
	}
}

// decFloorCeil rounds v (scale s) to an integer toward -inf (dir -1) or +inf (dir 1); the result
// has scale 0.
func decFloorCeil(v decimal128.Num, s int32, dir int) decimal128.Num {
	if s == 0 {
		return v
	}
	q, r := v.Div(decimal128.GetScaleMultiplier(int(s)))
	if r.Sign() != 0 && r.Sign() == dir {
		q = q.Add(decimal128.FromI64(int64(dir)))
	}
	return q
}

func bindRound(args []arrow.DataType) (*Bound, error) {
	usage := "round(x[, digits BIGINT])"
	if len(args) < 1 || len(args) > 2 || !numericOrNull(args[0]) || (len(args) == 2 && !implicitlyConverts(args[1], Int64)) {
		return nil, ArgTypeError("round", usage, args)
	}
	t := args[0]
	if t.ID() == arrow.NULL {
		t = Float64
	}
	digits := func(a []arrow.Array, i int) int64 {
		if len(a) < 2 {
			return 0
		}
		return a[1].(*array.Int64).Value(i)
	}
	argT := types(t)
	if len(args) == 2 {
		argT = types(t, Int64)
	}
	switch t.ID() {
	case arrow.INT64:
		return &Bound{Args: argT, Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x := a[0].(*array.Int64)
			return int64sTo(ctx, Int64, a, n, func(i int) (int64, error) {
				d := digits(a, i)
				if d >= 0 {
					return x.Value(i), nil
				}
				if d < -18 {
					return 0, nil
				}
				v, _ := decRescale(decimal128.FromI64(x.Value(i)), 0, int32(d))
				r, ok := decRescale(v, int32(d), 0)
				if !ok || !fitsI64(r) {
					return 0, errBigintRange
				}
				return int64(r.LowBits()), nil
			})
		}}, nil
	case arrow.FLOAT64:
		return &Bound{Args: argT, Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x := a[0].(*array.Float64)
			if len(a) == 1 {
				// round(double precision) is rint: half to even, as PostgreSQL.
				return float64sTo(ctx, a, n, func(i int) (float64, error) { return math.RoundToEven(x.Value(i)), nil })
			}
			return float64sTo(ctx, a, n, func(i int) (float64, error) { return roundFloat(x.Value(i), digits(a, i)), nil })
		}}, nil
	}
	p, s := decParams(t)
	// Rounding can carry into a new integer digit (round(0.5, 0) is 1, round(9.96, 1) is 10.0):
	// the result has one more digit of precision than the argument.
	ret := Decimal(min(38, p+1), s)
	if len(args) == 1 {
		ret = Decimal(min(38, p-s+1), 0)
	}
	return &Bound{Args: argT, Ret: ret, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		x := a[0].(*array.Decimal128)
		return decimalsTo(ctx, ret, a, n, func(i int) (decimal128.Num, error) {
			d := digits(a, i)
			v := x.Value(i)
			if len(a) == 1 {
				r, _ := decRescale(v, s, 0)
				return r, nil
			}
			if d >= int64(s) {
				return v, nil
			}
			d = max(d, int64(s)-38)
			r, _ := decRescale(v, s, int32(d))
			back, ok := decRescale(r, int32(d), s)
			if rp, _ := decParams(ret); !ok || !back.FitsInPrecision(rp) {
				return v, fmt.Errorf("numeric field overflow: round(%s, %d) does not fit %s", v.ToString(s), d, TypeName(t))
			}
			return back, nil
		})
	}}, nil
}

// roundFloat rounds x half away from zero to d decimal digits of its shortest decimal form.
func roundFloat(x float64, d int64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	if d < 0 {
		p := math.Pow(10, float64(-d))
		return math.Round(x/p) * p
	}
	if d > 300 {
		return x
	}
	v, ok := parseDecimal(strconv.FormatFloat(x, 'g', -1, 64), int32(min(d, 38)))
	if !ok || d > 30 {
		// Too many digits for 38-digit decimals: the value already has fewer significant digits.
		return x
	}
	r, _ := strconv.ParseFloat(v.ToString(int32(d)), 64)
	if r == 0 && math.Signbit(x) {
		return math.Copysign(0, -1)
	}
	return r
}
