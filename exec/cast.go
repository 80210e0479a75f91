package exec

import (
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Cast converts its input to another type: CAST(x AS t), and the implicit conversions the planner
// inserts where a function's Bound.Args differ from its arguments' types.
//
// Supported: numeric <-> numeric (DOUBLE to BIGINT rounds half to even and DECIMAL to BIGINT half
// away from zero, both as in PostgreSQL; values out of range are errors), anything -> VARCHAR (FormatDatum), VARCHAR -> every type (surrounding
// spaces ignored), TIMESTAMP <-> DATE, BIGINT <-> BOOLEAN, NULL -> anything. Runtime failures name
// the value in PostgreSQL's wording: invalid input syntax for type bigint: "abc".
type Cast struct {
	E  Expr
	To arrow.DataType
	fn func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error)
}

// NewCast returns e converted to type to; e itself when it already has that type. It fails when
// no conversion between the two types exists.
func NewCast(e Expr, to arrow.DataType) (Expr, error) {
	from := e.Type()
	if arrow.TypeEqual(from, to) {
		return e, nil
	}
	fn, err := castFunc(from, to)
	if err != nil {
		return nil, err
	}
	return &Cast{E: e, To: to, fn: fn}, nil
}

func (c *Cast) Type() arrow.DataType { return c.To }
func (c *Cast) String() string       { return "CAST(" + c.E.String() + " AS " + TypeName(c.To) + ")" }

// Eval evaluates the input and converts it; the input array is released before returning.
func (c *Cast) Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := c.E.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	return c.fn(ctx, a, int(rec.NumRows()))
}

// CastArray converts a to type to (a borrowed; result owned by the caller): the kernel behind Cast,
// for operators that convert whole columns (sources, UNION).
func CastArray(ctx *Ctx, a arrow.Array, to arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(a.DataType(), to) {
		a.Retain()
		return a, nil
	}
	fn, err := castFunc(a.DataType(), to)
	if err != nil {
		return nil, err
	}
	return fn(ctx, a, a.Len())
}

// CanCast reports whether a cast from one type to another exists.
func CanCast(from, to arrow.DataType) bool {
	if arrow.TypeEqual(from, to) {
		return true
	}
	_, err := castFunc(from, to)
	return err == nil
}

type castFn = func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error)

func castFunc(from, to arrow.DataType) (castFn, error) {
	fail := Errorf(CodeCannotCoerce, "cannot cast %s to %s", TypeName(from), TypeName(to))
	if from.ID() == arrow.NULL {
		return func(ctx *Ctx, _ arrow.Array, n int) (arrow.Array, error) { return ConstantArray(ctx.Mem, to, nil, n) }, nil
	}
	if to.ID() == arrow.STRING {
		return castToString, nil
	}
	if from.ID() == arrow.STRING {
		return castFromString(to)
	}
	switch from.ID() {
	case arrow.INT64:
		switch to.ID() {
		case arrow.FLOAT64:
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				return map1(ctx, Float64, a, n, func(x int64) (float64, error) { return float64(x), nil })
			}, nil
		case arrow.DECIMAL128:
			p, s := decParams(to)
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				x := a.(*array.Int64)
				return decimalsTo(ctx, to, []arrow.Array{a}, n, func(i int) (decimal128.Num, error) {
					v, ok := decRescale(decimal128.FromI64(x.Value(i)), 0, s)
					if !ok || !v.FitsInPrecision(p) {
						return v, Errorf(CodeNumericOutOfRange, "numeric field overflow: %d does not fit %s", x.Value(i), TypeName(to))
					}
					return v, nil
				})
			}, nil
		case arrow.BOOL:
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				x := a.(*array.Int64)
				return boolsTo(ctx, []arrow.Array{a}, n, func(i int) (bool, bool, error) { return x.Value(i) != 0, false, nil })
			}, nil
		}
	case arrow.FLOAT64:
		switch to.ID() {
		case arrow.INT64:
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				return map1(ctx, Int64, a, n, floatToInt64)
			}, nil
		case arrow.DECIMAL128:
			p, s := decParams(to)
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				x := a.(*array.Float64)
				return decimalsTo(ctx, to, []arrow.Array{a}, n, func(i int) (decimal128.Num, error) {
					v, ok := floatToDecimal(x.Value(i), s)
					if !ok || !v.FitsInPrecision(p) {
						return v, Errorf(CodeNumericOutOfRange, "numeric field overflow: %s does not fit %s", FormatFloat(x.Value(i)), TypeName(to))
					}
					return v, nil
				})
			}, nil
		}
	case arrow.DECIMAL128:
		_, fs := decParams(from)
		switch to.ID() {
		case arrow.INT64:
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				x := a.(*array.Decimal128)
				return int64sTo(ctx, Int64, []arrow.Array{a}, n, func(i int) (int64, error) {
					v, ok := decToInt64(x.Value(i), fs)
					if !ok {
						return 0, errBigintRange
					}
					return v, nil
				})
			}, nil
		case arrow.FLOAT64:
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				x := a.(*array.Decimal128)
				return float64sTo(ctx, []arrow.Array{a}, n, func(i int) (float64, error) { return decToFloat(x.Value(i), fs), nil })
			}, nil
		case arrow.DECIMAL128:
			p, s := decParams(to)
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				x := a.(*array.Decimal128)
				return decimalsTo(ctx, to, []arrow.Array{a}, n, func(i int) (decimal128.Num, error) {
					v, ok := decRescale(x.Value(i), fs, s)
					if !ok || !v.FitsInPrecision(p) {
						return v, Errorf(CodeNumericOutOfRange, "numeric field overflow: %s does not fit %s", x.Value(i).ToString(fs), TypeName(to))
					}
					return v, nil
				})
			}, nil
		}
	case arrow.BOOL:
		if to.ID() == arrow.INT64 {
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				x := a.(*array.Boolean)
				return int64sTo(ctx, Int64, []arrow.Array{a}, n, func(i int) (int64, error) {
					if x.Value(i) {
						return 1, nil
					}
					return 0, nil
				})
			}, nil
		}
	case arrow.TIMESTAMP:
		if to.ID() == arrow.DATE32 {
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				return map1(ctx, Date, a, n, func(us int64) (int32, error) { return int32(floorDiv(us, usPerDay)), nil })
			}, nil
		}
		if to.ID() == arrow.TIMESTAMP { // same unit, different zone label: values are UTC either way
			return retype(to), nil
		}
	case arrow.DATE32:
		if to.ID() == arrow.TIMESTAMP {
			return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
				return map1(ctx, to, a, n, func(d int32) (int64, error) { return int64(d) * usPerDay, nil })
			}, nil
		}
	}
	return nil, fail
}

const usPerDay = 86400 * 1_000_000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// retype relabels the array's data with type to (identical physical layout).
func retype(to arrow.DataType) castFn {
	return func(_ *Ctx, a arrow.Array, _ int) (arrow.Array, error) {
		d := a.Data()
		nd := array.NewData(to, d.Len(), d.Buffers(), d.Children(), d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd), nil
	}
}

// floatToInt64 rounds half to even, exactly like PostgreSQL's float8 -> bigint (rint): 2.5 -> 2,
// 3.5 -> 4. (DECIMAL -> BIGINT rounds half away from zero, also like PostgreSQL.)
func floatToInt64(f float64) (int64, error) {
	r := math.RoundToEven(f)
	if math.IsNaN(r) || r < -9223372036854775808.0 || r >= 9223372036854775808.0 {
		return 0, errBigintRange
	}
	return int64(r), nil
}

func castToString(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
	t := a.DataType()
	return stringsTo(ctx, []arrow.Array{a}, n, func(i int) (string, bool, error) {
		return FormatDatum(t, ValueAt(a, i)), false, nil
	})
}

func syntaxErr(typ, s string) error {
	return Errorf(CodeInvalidText, "invalid input syntax for type %s: %q", typ, s)
}

// ParseBool accepts PostgreSQL's spellings of a boolean: true/false, t/f, yes/no, y/n, on/off,
// 1/0 (case-insensitive, surrounding spaces ignored).
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "yes", "y", "on", "1":
		return true, nil
	case "false", "f", "no", "n", "off", "0":
		return false, nil
	}
	return false, syntaxErr("boolean", s)
}

// ParseInt64 parses a BIGINT the way PostgreSQL's input function does (spaces trimmed, optional
// sign, decimal digits, "_" separators between digits are not accepted).
func ParseInt64(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, Errorf(CodeNumericOutOfRange, "value %q is out of range for type bigint", s)
		}
		return 0, syntaxErr("bigint", s)
	}
	return v, nil
}

// ParseFloat64 parses a DOUBLE, accepting NaN, Infinity and -Infinity like PostgreSQL.
func ParseFloat64(s string) (float64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, Errorf(CodeNumericOutOfRange, "%q is out of range for type double precision", s)
		}
		return 0, syntaxErr("double precision", s)
	}
	return v, nil
}

func castFromString(to arrow.DataType) (castFn, error) {
	type parser func(s string) (Datum, error)
	var p parser
	switch to.ID() {
	case arrow.BOOL:
		p = func(s string) (Datum, error) { return ParseBool(s) }
	case arrow.INT64:
		return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
			x := a.(*array.String)
			return int64sTo(ctx, Int64, []arrow.Array{a}, n, func(i int) (int64, error) { return ParseInt64(x.Value(i)) })
		}, nil
	case arrow.FLOAT64:
		return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
			x := a.(*array.String)
			return float64sTo(ctx, []arrow.Array{a}, n, func(i int) (float64, error) { return ParseFloat64(x.Value(i)) })
		}, nil
	case arrow.DECIMAL128:
		prec, scale := decParams(to)
		p = func(s string) (Datum, error) {
			v, ok := parseDecimal(s, scale)
			if !ok {
				return nil, syntaxErr("numeric", s)
			}
			if !v.FitsInPrecision(prec) {
				return nil, Errorf(CodeNumericOutOfRange, "numeric field overflow: %q does not fit %s", s, TypeName(to))
			}
			return v, nil
		}
	case arrow.TIMESTAMP:
		return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
			x := a.(*array.String)
			return int64sTo(ctx, to, []arrow.Array{a}, n, func(i int) (int64, error) {
				v, err := ParseTimestamp(x.Value(i))
				if err != nil {
					return 0, syntaxErr("timestamp", x.Value(i))
				}
				return v, nil
			})
		}, nil
	case arrow.DATE32:
		p = func(s string) (Datum, error) {
			d, err := ParseDate(s)
			if err != nil {
				// A timestamp text casts to its date, as in PostgreSQL ('2024-01-02 10:00'::date).
				us, err2 := ParseTimestamp(s)
				if err2 != nil {
					return nil, syntaxErr("date", s)
				}
				return int32(floorDiv(us, usPerDay)), nil
			}
			return d, nil
		}
	case arrow.DURATION:
		p = func(s string) (Datum, error) {
			v, err := ParseInterval(s)
			if err != nil {
				return nil, Errorf(CodeInvalidText, "invalid input syntax for type interval: %q (%v)", s, err)
			}
			return v, nil
		}
	default:
		return nil, Errorf(CodeCannotCoerce, "cannot cast VARCHAR to %s", TypeName(to))
	}
	return func(ctx *Ctx, a arrow.Array, n int) (arrow.Array, error) {
		x := a.(*array.String)
		return rowsTo(ctx, to, []arrow.Array{a}, n, func(b array.Builder, i int) error {
			v, err := p(x.Value(i))
			if err != nil {
				return err
			}
			return AppendDatum(b, v)
		})
	}, nil
}
