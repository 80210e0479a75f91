package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// AggKind is an aggregate function of the hash aggregate operator.
type AggKind int

const (
	AggCountStar AggKind = iota
	AggCount
	AggSum
	AggAvg
	AggMin
	AggMax
)

// AggSpec is one aggregate call. Col is the input column index (ignored for AggCountStar).
// Distinct dedupes the non-NULL values of the argument per group before aggregating.
type AggSpec struct {
	Kind     AggKind
	Distinct bool
	Col      int
}

// AggName is the SQL name of kind: "count", "sum", "avg", "min", "max" (count(*) is "count").
func AggName(kind AggKind) string {
	switch kind {
	case AggCountStar, AggCount:
		return "count"
	case AggSum:
		return "sum"
	case AggAvg:
		return "avg"
	case AggMin:
		return "min"
	case AggMax:
		return "max"
	}
	return fmt.Sprintf("aggregate#%d", int(kind))
}

// String renders the call as in SQL, e.g. "count(*)", "sum(DISTINCT #2)".
func (s AggSpec) String() string {
	if s.Kind == AggCountStar {
		return "count(*)"
	}
	d := ""
	if s.Distinct {
		d = "DISTINCT "
	}
	return fmt.Sprintf("%s(%s#%d)", AggName(s.Kind), d, s.Col)
}

// AggResultType is the result type of kind over an argument of type arg (nil for count(*)).
//
//	count, count(*)                    -> BIGINT (any argument type)
//	sum(BIGINT) -> BIGINT              sum(DOUBLE) -> DOUBLE      sum(DECIMAL(p,s)) -> DECIMAL(38,s)
//	avg(BIGINT | DOUBLE | DECIMAL)     -> DOUBLE
//	min, max(BOOLEAN, BIGINT, DOUBLE, DECIMAL, VARCHAR, TIMESTAMP, DATE, INTERVAL) -> the same type
//
// An untyped NULL argument is accepted: count gives 0, avg a DOUBLE NULL, and sum/min/max a NULL of
// type NULL. Other combinations are an error naming the function and the type.
func AggResultType(kind AggKind, arg arrow.DataType) (arrow.DataType, error) {
	if kind == AggCountStar {
		return Int64, nil
	}
	if arg == nil {
		return nil, fmt.Errorf("%s requires an argument", AggName(kind))
	}
	switch kind {
	case AggCount:
		return Int64, nil
	case AggSum:
		switch arg.ID() {
		case arrow.NULL:
			return Null, nil
		case arrow.INT64:
			return Int64, nil
		case arrow.FLOAT64:
			return Float64, nil
		case arrow.DECIMAL128:
			return Decimal(38, arg.(*arrow.Decimal128Type).Scale), nil
		}
	case AggAvg:
		switch arg.ID() {
		case arrow.NULL, arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128:
			return Float64, nil
		}
	case AggMin, AggMax:
		switch arg.ID() {
		case arrow.NULL, arrow.BOOL, arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128, arrow.STRING,
			arrow.TIMESTAMP, arrow.DATE32, arrow.DURATION:
			return arg, nil
		}
	default:
		return nil, fmt.Errorf("unknown aggregate kind %d", int(kind))
	}
	return nil, fmt.Errorf("function %s does not accept (%s)", AggName(kind), TypeName(arg))
}
