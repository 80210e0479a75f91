package exec

import (
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Arithmetic operators +, -, *, /, %, unary neg and string concatenation ||.
//
// Numeric operands are promoted to their CommonType. BIGINT arithmetic is checked ("bigint out of
// range"); "/" on BIGINT truncates toward zero. Division or modulo by zero is an error for every
// type, as in PostgreSQL; otherwise DOUBLE follows IEEE 754. DECIMAL +, -, * and % are exact;
// DECIMAL / DECIMAL is exact division rounded half away from zero to scale max(16, s1, s2) with
// precision 38 (PostgreSQL keeps more digits: 1.0/3 is 0.333333 here). DECIMAL mixed with DOUBLE
// is DOUBLE, DECIMAL mixed with BIGINT is DECIMAL.
//
// Time arithmetic: TIMESTAMP ± INTERVAL, INTERVAL + TIMESTAMP -> TIMESTAMP; TIMESTAMP - TIMESTAMP ->
// INTERVAL; INTERVAL ± INTERVAL; INTERVAL * or / BIGINT or DOUBLE -> INTERVAL; DATE ± BIGINT days ->
// DATE; DATE - DATE -> BIGINT days; DATE ± INTERVAL -> TIMESTAMP (the DATE is cast to TIMESTAMP).

var (
	errDivZero      = Errorf(CodeDivisionByZero, "division by zero")
	errBigintRange  = Errorf(CodeNumericOutOfRange, "bigint out of range")
	errTSRange      = Errorf(CodeDatetimeOverflow, "timestamp out of range")
	errIntervalRang = Errorf(CodeDatetimeOverflow, "interval out of range")
)

const arithUsage = "a %s b for numbers, or TIMESTAMP/DATE/INTERVAL operands"

func init() {
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		op := op
		register(&Function{Name: op, Usage: fmt.Sprintf(arithUsage, op), Bind: func(args []arrow.DataType) (*Bound, error) {
			if len(args) != 2 {
				return nil, fmt.Errorf("operator %s takes two operands", op)
			}
			b, err := bindArith(op, args[0], args[1])
			if err != nil {
				return nil, err
			}
			b.Infix = true
			return b, nil
		}})
	}
	register(&Function{Name: "neg", Usage: "-x for BIGINT, DOUBLE, DECIMAL or INTERVAL", Bind: bindNeg})
	register(&Function{Name: "||", Usage: "a || b (non-strings are formatted as text)", Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("operator || takes two operands")
		}
		return &Bound{Args: []arrow.DataType{String, String}, Ret: String, Infix: true,
			Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				x, y := a[0].(*array.String), a[1].(*array.String)
				return stringsTo(ctx, a, n, func(i int) (string, bool, error) { return x.Value(i) + y.Value(i), false, nil })
			}}, nil
	}})
}

func arithErr(op string, a, b arrow.DataType) error {
	return fmt.Errorf("operator does not exist: %s %s %s", TypeName(a), op, TypeName(b))
}

// nullAs picks the type an untyped NULL operand takes next to an operand of type other.
func nullAs(op string, other arrow.DataType) arrow.DataType {
	switch other.ID() {
	case arrow.NULL:
		return Int64
	case arrow.TIMESTAMP, arrow.DATE32:
		if op == "+" || op == "-" {
			return Interval
		}
	}
	return other
}

func bindArith(op string, a, b arrow.DataType) (*Bound, error) {
	if a.ID() == arrow.NULL {
		a = nullAs(op, b)
	}
	if b.ID() == arrow.NULL {
		b = nullAs(op, a)
	}
	if IsNumeric(a) && IsNumeric(b) {
		return bindNumericArith(op, a, b)
	}
	ts, iv, dt, i64, f64 := arrow.TIMESTAMP, arrow.DURATION, arrow.DATE32, arrow.INT64, arrow.FLOAT64
	ia, ib := a.ID(), b.ID()
	is := func(x, y arrow.Type) bool { return ia == x && ib == y }
	bound := func(ta, tb, ret arrow.DataType, k Kernel) (*Bound, error) {
		return &Bound{Args: []arrow.DataType{ta, tb}, Ret: ret, Kernel: k}, nil
	}
	addTS := func(x, y int64) (int64, error) { return checkedAdd(x, y, errTSRange) }
	subTS := func(x, y int64) (int64, error) { return checkedSub(x, y, errTSRange) }
	switch op {
	case "+":
		switch {
		case is(ts, iv), is(dt, iv):
			return bound(Timestamp, Interval, Timestamp, int64Kernel(Timestamp, addTS))
		case is(iv, ts), is(iv, dt):
			return bound(Interval, Timestamp, Timestamp, int64Kernel(Timestamp, addTS))
		case is(iv, iv):
			return bound(Interval, Interval, Interval, int64Kernel(Interval, func(x, y int64) (int64, error) { return checkedAdd(x, y, errIntervalRang) }))
		case is(dt, i64):
			return bound(Date, Int64, Date, dateAddDays(1, false))
		case is(i64, dt):
			return bound(Int64, Date, Date, dateAddDays(1, true))
		}
	case "-":
		switch {
		case is(ts, iv), is(dt, iv):
			return bound(Timestamp, Interval, Timestamp, int64Kernel(Timestamp, subTS))
		case is(ts, ts), is(ts, dt), is(dt, ts):
			return bound(Timestamp, Timestamp, Interval, int64Kernel(Interval, func(x, y int64) (int64, error) { return checkedSub(x, y, errIntervalRang) }))
		case is(iv, iv):
			return bound(Interval, Interval, Interval, int64Kernel(Interval, func(x, y int64) (int64, error) { return checkedSub(x, y, errIntervalRang) }))
		case is(dt, i64):
			return bound(Date, Int64, Date, dateAddDays(-1, false))
		case is(dt, dt):
			return bound(Date, Date, Int64, func(ctx *Ctx, x []arrow.Array, n int) (arrow.Array, error) {
				return map2(ctx, Int64, x[0], x[1], n, func(p, q int32) (int64, error) { return int64(p) - int64(q), nil })
			})
		}
	case "*":
		switch {
		case is(iv, i64):
			return bound(Interval, Int64, Interval, int64Kernel(Interval, func(x, y int64) (int64, error) { return checkedMul(x, y, errIntervalRang) }))
		case is(i64, iv):
			return bound(Int64, Interval, Interval, int64Kernel(Interval, func(x, y int64) (int64, error) { return checkedMul(x, y, errIntervalRang) }))
		case ia == iv && (ib == f64 || ib == arrow.DECIMAL128):
			return bound(Interval, Float64, Interval, intervalScale(false, false))
		case ib == iv && (ia == f64 || ia == arrow.DECIMAL128):
			return bound(Float64, Interval, Interval, intervalScale(true, false))
		}
	case "/":
		if ia == iv && IsNumeric(b) {
			return bound(Interval, Float64, Interval, intervalScale(false, true))
		}
	}
	return nil, arithErr(op, a, b)
}

func bindNumericArith(op string, a, b arrow.DataType) (*Bound, error) {
	t, _ := CommonType(a, b)
	switch t.ID() {
	case arrow.INT64:
		return &Bound{Args: []arrow.DataType{Int64, Int64}, Ret: Int64, Kernel: int64Kernel(Int64, int64Op(op))}, nil
	case arrow.FLOAT64:
		f := float64Op(op)
		return &Bound{Args: []arrow.DataType{Float64, Float64}, Ret: Float64, Kernel: func(ctx *Ctx, x []arrow.Array, n int) (arrow.Array, error) {
			return map2(ctx, Float64, x[0], x[1], n, f)
		}}, nil
	}
	// DECIMAL: each side keeps its own scale (a BIGINT side becomes DECIMAL(19,0)).
	ta, tb := a, b
	if ta.ID() == arrow.INT64 {
		ta = Decimal(19, 0)
	}
	if tb.ID() == arrow.INT64 {
		tb = Decimal(19, 0)
	}
	p1, s1 := decParams(ta)
	p2, s2 := decParams(tb)
	var rp, rs int32
	switch op {
	case "+", "-", "%":
		rs = max(s1, s2)
		rp = min(38, max(p1-s1, p2-s2)+rs+1)
	case "*":
		rs = s1 + s2
		if rs > 38 {
			return nil, fmt.Errorf("operator *: result scale %d of %s * %s exceeds 38", rs, TypeName(ta), TypeName(tb))
		}
		rp = min(38, p1+p2+1)
	case "/":
		rs = max(16, s1, s2) // PostgreSQL keeps at least 16 significant digits
		rp = 38
	}
	ret := Decimal(rp, rs)
	return &Bound{Args: []arrow.DataType{ta, tb}, Ret: ret, Kernel: decimalArithKernel(op, s1, s2, rp, rs)}, nil
}

func int64Kernel(ret arrow.DataType, f func(x, y int64) (int64, error)) Kernel {
	return func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return map2(ctx, ret, a[0], a[1], n, f)
	}
}

func checkedAdd(x, y int64, rangeErr error) (int64, error) {
	r := x + y
	if (x^r)&(y^r) < 0 {
		return 0, rangeErr
	}
	return r, nil
}

func checkedSub(x, y int64, rangeErr error) (int64, error) {
	r := x - y
	if (x^y)&(x^r) < 0 {
		return 0, rangeErr
	}
	return r, nil
}

func checkedMul(x, y int64, rangeErr error) (int64, error) {
	r, ok := mulInt64(x, y)
	if !ok {
		return 0, rangeErr
	}
	return r, nil
}

func int64Op(op string) func(x, y int64) (int64, error) {
	switch op {
	case "+":
		return func(x, y int64) (int64, error) { return checkedAdd(x, y, errBigintRange) }
	case "-":
		return func(x, y int64) (int64, error) { return checkedSub(x, y, errBigintRange) }
	case "*":
		return func(x, y int64) (int64, error) { return checkedMul(x, y, errBigintRange) }
	case "/":
		return func(x, y int64) (int64, error) {
			if y == 0 {
				return 0, errDivZero
			}
			if y == -1 {
				if x == math.MinInt64 {
					return 0, errBigintRange
				}
				return -x, nil
			}
			return x / y, nil
		}
	}
	return func(x, y int64) (int64, error) {
		if y == 0 {
			return 0, errDivZero
		}
		if y == -1 {
			return 0, nil
		}
		return x % y, nil
	}
}

func float64Op(op string) func(x, y float64) (float64, error) {
	switch op {
	case "+":
		return func(x, y float64) (float64, error) { return x + y, nil }
	case "-":
		return func(x, y float64) (float64, error) { return x - y, nil }
	case "*":
		return func(x, y float64) (float64, error) { return x * y, nil }
	case "/":
		return func(x, y float64) (float64, error) {
			if y == 0 {
				return 0, errDivZero
			}
			return x / y, nil
		}
	}
	return func(x, y float64) (float64, error) {
		if y == 0 {
			return 0, errDivZero
		}
		return math.Mod(x, y), nil
	}
}

// decimalArithKernel computes a op b where a has scale s1, b scale s2 and the result is
// DECIMAL(rp, rs). BIGINT arguments arrive cast to DECIMAL(19,0).
func decimalArithKernel(op string, s1, s2, rp, rs int32) Kernel {
	ret := Decimal(rp, rs)
	overflow := func(x, y decimal128.Num) error {
		return Errorf(CodeNumericOutOfRange, "numeric field overflow: %s %s %s does not fit %s", x.ToString(s1), op, y.ToString(s2), TypeName(ret))
	}
	var f func(x, y decimal128.Num) (decimal128.Num, error)
	switch op {
	case "+", "-", "%":
		f = func(x, y decimal128.Num) (decimal128.Num, error) {
			xa, ok1 := decRescale(x, s1, rs)
			ya, ok2 := decRescale(y, s2, rs)
			if !ok1 || !ok2 {
				return decimal128.Num{}, overflow(x, y)
			}
			var r decimal128.Num
			ok := true
			switch op {
			case "+":
				r, ok = decAdd(xa, ya)
			case "-":
				r, ok = decAdd(xa, ya.Negate())
			default:
				if ya.Sign() == 0 {
					return decimal128.Num{}, errDivZero
				}
				r = decimal128.FromBigInt(new(big.Int).Rem(xa.BigInt(), ya.BigInt()))
			}
			if !ok || !r.FitsInPrecision(rp) {
				return decimal128.Num{}, overflow(x, y)
			}
			return r, nil
		}
	case "*":
		f = func(x, y decimal128.Num) (decimal128.Num, error) {
			r, ok := decMul(x, y)
			if !ok || !r.FitsInPrecision(rp) {
				return decimal128.Num{}, overflow(x, y)
			}
			return r, nil
		}
	default: // "/"
		mult := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(rs+s2-s1)), nil)
		f = func(x, y decimal128.Num) (decimal128.Num, error) {
			if y.Sign() == 0 {
				return decimal128.Num{}, errDivZero
			}
			num := new(big.Int).Mul(x.BigInt(), mult)
			r, ok := bigToDec(decDivRound(num, y.BigInt()))
			if !ok {
				return decimal128.Num{}, overflow(x, y)
			}
			return r, nil
		}
	}
	return func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		x, y := a[0].(*array.Decimal128), a[1].(*array.Decimal128)
		return decimalsTo(ctx, ret, a, n, func(i int) (decimal128.Num, error) { return f(x.Value(i), y.Value(i)) })
	}
}

// dateAddDays adds (sign * days) to a DATE; swapped means the BIGINT is the first argument.
func dateAddDays(sign int64, swapped bool) Kernel {
	return func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		d, k := a[0], a[1]
		if swapped {
			d, k = k, d
		}
		return map2(ctx, Date, d, k, n, func(x int32, y int64) (int32, error) {
			r := int64(x) + sign*y
			if r > math.MaxInt32 || r < math.MinInt32 || y > math.MaxInt32 || y < math.MinInt32 {
				return 0, Errorf(CodeDatetimeOverflow, "date out of range")
			}
			return int32(r), nil
		})
	}
}

// intervalScale multiplies (or divides) an INTERVAL by a DOUBLE, rounding to whole microseconds.
func intervalScale(swapped, divide bool) Kernel {
	return func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		iv, f := a[0], a[1]
		if swapped {
			iv, f = f, iv
		}
		return map2(ctx, Interval, iv, f, n, func(x int64, y float64) (int64, error) {
			if divide && y == 0 {
				return 0, errDivZero
			}
			r := float64(x) * y
			if divide {
				r = float64(x) / y
			}
			r = math.Round(r)
			if math.IsNaN(r) || r >= math.MaxInt64 || r < math.MinInt64 {
				return 0, errIntervalRang
			}
			return int64(r), nil
		})
	}
}

func bindNeg(args []arrow.DataType) (*Bound, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("unary minus takes one operand")
	}
	t := args[0]
	if t.ID() == arrow.NULL {
		t = Int64
	}
	one := []arrow.DataType{t}
	switch t.ID() {
	case arrow.INT64, arrow.DURATION:
		rangeErr := errBigintRange
		if t.ID() == arrow.DURATION {
			rangeErr = errIntervalRang
		}
		return &Bound{Args: one, Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, t, a[0], n, func(x int64) (int64, error) {
				if x == math.MinInt64 {
					return 0, rangeErr
				}
				return -x, nil
			})
		}}, nil
	case arrow.FLOAT64:
		return &Bound{Args: one, Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, t, a[0], n, func(x float64) (float64, error) { return -x, nil })
		}}, nil
	case arrow.DECIMAL128:
		return &Bound{Args: one, Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x := a[0].(*array.Decimal128)
			return decimalsTo(ctx, t, a, n, func(i int) (decimal128.Num, error) { return x.Value(i).Negate(), nil })
		}}, nil
	}
	return nil, fmt.Errorf("operator does not exist: - %s", TypeName(t))
}
