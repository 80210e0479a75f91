package exec

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// The SQL types of the engine and the Arrow types that carry them. Every column and expression has
// one of these (or Decimal(p, s)); operators may rely on it.
var (
	Bool      arrow.DataType = arrow.FixedWidthTypes.Boolean
	Int64     arrow.DataType = arrow.PrimitiveTypes.Int64
	Float64   arrow.DataType = arrow.PrimitiveTypes.Float64
	String    arrow.DataType = arrow.BinaryTypes.String
	Timestamp arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	Date      arrow.DataType = arrow.FixedWidthTypes.Date32
	// Interval is a fixed duration in microseconds. Calendar intervals (months, years) have no fixed
	// length and are rejected where they would be needed.
	Interval arrow.DataType = &arrow.DurationType{Unit: arrow.Microsecond}
	// Null is the type of an untyped NULL literal; it converts implicitly to any other type.
	Null arrow.DataType = arrow.Null
)

// Decimal returns the DECIMAL(precision, scale) type.
func Decimal(precision, scale int32) arrow.DataType {
	return &arrow.Decimal128Type{Precision: precision, Scale: scale}
}

// TypeName is the SQL spelling of a type, used in DESCRIBE, error messages and EXPLAIN.
func TypeName(t arrow.DataType) string {
	if t == nil {
		return "UNKNOWN"
	}
	switch t.ID() {
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.INT64:
		return "BIGINT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.STRING:
		return "VARCHAR"
	case arrow.TIMESTAMP:
		return "TIMESTAMP"
	case arrow.DATE32:
		return "DATE"
	case arrow.DURATION:
		return "INTERVAL"
	case arrow.NULL:
		return "NULL"
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		return fmt.Sprintf("DECIMAL(%d,%d)", d.Precision, d.Scale)
	case arrow.LIST:
		return TypeName(t.(*arrow.ListType).Elem()) + "[]"
	}
	return strings.ToUpper(t.String())
}

// ParseType maps a SQL type name (any common alias, case-insensitive) with its optional numeric
// parameters to the engine type. Unknown names get an error listing the supported ones.
func ParseType(name string, params []int) (arrow.DataType, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	noParams := func(t arrow.DataType) (arrow.DataType, error) {
		if len(params) > 0 && n != "VARCHAR" && n != "CHAR" {
			return nil, fmt.Errorf("type %s takes no parameters", n)
		}
		return t, nil
	}
	switch n {
	case "BOOLEAN", "BOOL":
		return noParams(Bool)
	case "BIGINT", "INT", "INTEGER", "INT8", "INT4", "SMALLINT", "TINYINT", "LONG", "SIGNED":
		return noParams(Int64)
	case "DOUBLE", "FLOAT", "REAL", "FLOAT8", "FLOAT4", "DOUBLE PRECISION":
		return noParams(Float64)
	case "VARCHAR", "TEXT", "STRING", "CHAR", "CHARACTER VARYING", "CHARACTER":
		if len(params) > 1 {
			return nil, fmt.Errorf("type %s takes at most one parameter", n)
		}
		return String, nil
	case "TIMESTAMP", "DATETIME", "TIMESTAMPTZ":
		return noParams(Timestamp)
	case "DATE":
		return noParams(Date)
	case "INTERVAL":
		return noParams(Interval)
	case "DECIMAL", "NUMERIC":
		p, s := 38, 0
		if len(params) > 0 {
			p = params[0]
		}
		if len(params) > 1 {
			s = params[1]
		}
		if len(params) > 2 {
			return nil, fmt.Errorf("type DECIMAL takes at most two parameters")
		}
		if p < 1 || p > 38 || s < 0 || s > p {
			return nil, fmt.Errorf("DECIMAL(%d,%d) is out of range: precision must be 1..38 and scale 0..precision", p, s)
		}
		return Decimal(int32(p), int32(s)), nil
	}
	return nil, fmt.Errorf("unknown type %q (supported: BOOLEAN, BIGINT, DOUBLE, DECIMAL(p,s), VARCHAR, TIMESTAMP, DATE, INTERVAL)", name)
}

// IsNumeric reports whether t is BIGINT, DOUBLE or DECIMAL.
func IsNumeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128:
		return true
	}
	return false
}

// CommonType is the type two values are both converted to when they meet in a comparison, a
// UNION, CASE branches or COALESCE. NULL converts to anything; BIGINT widens to DECIMAL and DOUBLE,
// DECIMAL to DOUBLE; DATE widens to TIMESTAMP. Otherwise the types must be equal.
func CommonType(a, b arrow.DataType) (arrow.DataType, bool) {
	switch {
	case a.ID() == arrow.NULL:
		return b, true
	case b.ID() == arrow.NULL:
		return a, true
	case arrow.TypeEqual(a, b):
		return a, true
	}
	if IsNumeric(a) && IsNumeric(b) {
		if a.ID() == arrow.FLOAT64 || b.ID() == arrow.FLOAT64 {
			return Float64, true
		}
		if a.ID() == arrow.DECIMAL128 && b.ID() == arrow.DECIMAL128 {
			da, db := a.(*arrow.Decimal128Type), b.(*arrow.Decimal128Type)
			s := max(da.Scale, db.Scale)
			ip := max(da.Precision-da.Scale, db.Precision-db.Scale)
			return Decimal(min(38, ip+s), s), true
		}
		d := a
		if a.ID() != arrow.DECIMAL128 {
			d = b
		}
		dd := d.(*arrow.Decimal128Type)
		return Decimal(min(38, max(dd.Precision, 19+dd.Scale)), dd.Scale), true
	}
	if (a.ID() == arrow.DATE32 && b.ID() == arrow.TIMESTAMP) || (a.ID() == arrow.TIMESTAMP && b.ID() == arrow.DATE32) {
		return Timestamp, true
	}
	return nil, false
}
