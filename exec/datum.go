package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A Datum is one SQL value outside a column: a literal, a folded constant, a cell read for display.
// Its Go type is fixed by the SQL type it belongs to:
//
//	NULL -> nil            BOOLEAN -> bool       BIGINT -> int64     DOUBLE -> float64
//	VARCHAR -> string      TIMESTAMP -> int64 microseconds since the epoch, UTC
//	DATE -> int32 days since the epoch            INTERVAL -> int64 microseconds
//	DECIMAL(p,s) -> decimal128.Num scaled by 10^s
type Datum = any

// ValueAt reads row i of arr as a Datum.
func ValueAt(arr arrow.Array, i int) Datum {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Date32:
		return int32(a.Value(i))
	case *array.Duration:
		return int64(a.Value(i))
	case *array.Decimal128:
		return a.Value(i)
	case *array.Null:
		return nil
	}
	return arr.ValueStr(i)
}

// AppendDatum appends v to a builder of the matching type; nil appends NULL.
func AppendDatum(b array.Builder, v Datum) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	ok := true
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		x, y := v.(bool)
		ok = y
		bb.Append(x)
	case *array.Int64Builder:
		x, y := v.(int64)
		ok = y
		bb.Append(x)
	case *array.Float64Builder:
		x, y := v.(float64)
		ok = y
		bb.Append(x)
	case *array.StringBuilder:
		x, y := v.(string)
		ok = y
		bb.Append(x)
	case *array.TimestampBuilder:
		x, y := v.(int64)
		ok = y
		bb.Append(arrow.Timestamp(x))
	case *array.Date32Builder:
		x, y := v.(int32)
		ok = y
		bb.Append(arrow.Date32(x))
	case *array.DurationBuilder:
		x, y := v.(int64)
		ok = y
		bb.Append(arrow.Duration(x))
	case *array.Decimal128Builder:
		x, y := v.(decimal128.Num)
		ok = y
		bb.Append(x)
	case *array.NullBuilder:
		bb.AppendNull()
	default:
		return fmt.Errorf("internal: no datum support for builder %T", b)
	}
	if !ok {
		return fmt.Errorf("internal: datum %v (%T) does not fit builder %T", v, v, b)
	}
	return nil
}

// ConstantArray returns an array of n copies of v with type t.
func ConstantArray(mem memory.Allocator, t arrow.DataType, v Datum, n int) (arrow.Array, error) {
	if t.ID() == arrow.NULL {
		return array.NewNull(n), nil
	}
	b := array.NewBuilder(mem, t)
	defer b.Release()
	b.Reserve(n)
	if v == nil {
		b.AppendNulls(n)
		return b.NewArray(), nil
	}
	switch bb := b.(type) {
	case *array.Int64Builder:
		x := v.(int64)
		for i := 0; i < n; i++ {
			bb.UnsafeAppend(x)
		}
		return b.NewArray(), nil
	case *array.Float64Builder:
		x := v.(float64)
		for i := 0; i < n; i++ {
			bb.UnsafeAppend(x)
		}
		return b.NewArray(), nil
	}
	for i := 0; i < n; i++ {
		if err := AppendDatum(b, v); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

// FormatDatum renders v of type t the way the CLI, the conformance runner and the wire protocol's
// text format show it (PostgreSQL's text output where the types agree). NULL renders as "NULL".
func FormatDatum(t arrow.DataType, v Datum) string {
	if v == nil {
		return "NULL"
	}
	switch t.ID() {
	case arrow.BOOL:
		if v.(bool) {
			return "true"
		}
		return "false"
	case arrow.INT64:
		return strconv.FormatInt(v.(int64), 10)
	case arrow.FLOAT64:
		return FormatFloat(v.(float64))
	case arrow.STRING:
		return v.(string)
	case arrow.TIMESTAMP:
		return FormatTimestamp(v.(int64))
	case arrow.DATE32:
		return time.Unix(int64(v.(int32))*86400, 0).UTC().Format("2006-01-02")
	case arrow.DURATION:
		return FormatInterval(v.(int64))
	case arrow.DECIMAL128:
		return v.(decimal128.Num).ToString(t.(*arrow.Decimal128Type).Scale)
	}
	return fmt.Sprint(v)
}

// FormatValue renders row i of arr with FormatDatum; a list renders like Spark: [a, b, c].
func FormatValue(arr arrow.Array, i int) string {
	if l, ok := arr.(*array.List); ok && l.IsValid(i) {
		start, end := l.ValueOffsets(i)
		vals := l.ListValues()
		parts := make([]string, 0, end-start)
		for k := start; k < end; k++ {
			parts = append(parts, FormatValue(vals, int(k)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return FormatDatum(arr.DataType(), ValueAt(arr, i))
}

// FormatFloat prints the shortest representation that round-trips, without an exponent for
// ordinary magnitudes (PostgreSQL style: 2.5, 1e+20, NaN, Infinity).
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e15) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// FormatTimestamp prints microseconds since the epoch as "2006-01-02 15:04:05[.ffffff]" in UTC.
func FormatTimestamp(us int64) string {
	var buf [32]byte
	return string(AppendTimestamp(buf[:0], us))
}

// formatTimestampSlow is FormatTimestamp through time.Format, for years outside 0000-9999.
func formatTimestampSlow(us int64) string {
	t := time.UnixMicro(us).UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return strings.TrimRight(t.Format("2006-01-02 15:04:05.000000"), "0")
}

// FormatInterval prints microseconds like PostgreSQL: "[N day[s] ]HH:MM:SS[.ffffff]".
func FormatInterval(us int64) string {
	var sb strings.Builder
	neg := us < 0
	if neg {
		us = -us
	}
	days := us / (86400 * 1e6)
	rest := us % (86400 * 1e6)
	if days > 0 {
		if neg {
			sb.WriteByte('-')
		}
		sb.WriteString(strconv.FormatInt(days, 10))
		if days == 1 {
			sb.WriteString(" day")
		} else {
			sb.WriteString(" days")
		}
		if rest == 0 {
			return sb.String()
		}
		sb.WriteByte(' ')
	}
	if neg && rest != 0 {
		sb.WriteByte('-')
	}
	secs := rest / 1e6
	frac := rest % 1e6
	fmt.Fprintf(&sb, "%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if frac != 0 {
		sb.WriteString(strings.TrimRight(fmt.Sprintf(".%06d", frac), "0"))
	}
	return sb.String()
}
