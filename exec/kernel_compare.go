package exec

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Comparison operators. Both arguments are cast to their CommonType by the planner, so a kernel
// only ever compares equal types. NULL on either side gives NULL (three-valued logic).

type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpNames = map[cmpOp]string{opEq: "=", opNe: "<>", opLt: "<", opLe: "<=", opGt: ">", opGe: ">="}

func init() {
	for op, name := range cmpNames {
		op, name := op, name
		register(&Function{Name: name, Usage: "a " + name + " b", Bind: func(args []arrow.DataType) (*Bound, error) {
			if len(args) != 2 {
				return nil, fmt.Errorf("operator %s takes two operands", name)
			}
			t, ok := CommonType(args[0], args[1])
			if !ok {
				return nil, fmt.Errorf("cannot compare %s with %s", TypeName(args[0]), TypeName(args[1]))
			}
			if t.ID() == arrow.NULL {
				t = Bool
			}
			return &Bound{Args: []arrow.DataType{t, t}, Ret: Bool, Infix: true,
				Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
					return compareArrays(ctx, op, a[0], a[1], n)
				}}, nil
		}})
	}
	register(&Function{Name: "!=", Bind: func(args []arrow.DataType) (*Bound, error) { return BindCall("<>", args) }})
}

func test(op cmpOp, c int) bool {
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

func compareArrays(ctx *Ctx, op cmpOp, a, b arrow.Array, n int) (arrow.Array, error) {
	validity, nulls := combinedValidity(ctx.Mem, n, a, b)
	switch a.DataType().ID() {
	case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
		x, y := fixedValues[int64](a), fixedValues[int64](b)
		return compareFixed(ctx, op, x, y, n, validity, nulls), nil
	case arrow.FLOAT64:
		x, y := fixedValues[float64](a), fixedValues[float64](b)
		if !hasNaN(x) && !hasNaN(y) {
			return compareFixed(ctx, op, x, y, n, validity, nulls), nil
		}
		// PostgreSQL orders NaN above every number and equal to itself; the join, the aggregate and
		// ORDER BY agree, so comparisons must too.
		return boolResult(ctx.Mem, n, validity, nulls, func(i int) bool {
			return test(op, floatTotalCmp(x[i], y[i]))
		}), nil
	case arrow.DATE32:
		x, y := fixedValues[int32](a), fixedValues[int32](b)
		return compareFixed(ctx, op, x, y, n, validity, nulls), nil
	case arrow.STRING:
		x, y := a.(*array.String), b.(*array.String)
		return boolResult(ctx.Mem, n, validity, nulls, func(i int) bool {
			return test(op, strings.Compare(x.Value(i), y.Value(i)))
		}), nil
	case arrow.BOOL:
		x, y := a.(*array.Boolean), b.(*array.Boolean)
		return boolResult(ctx.Mem, n, validity, nulls, func(i int) bool {
			return test(op, boolCmp(x.Value(i), y.Value(i)))
		}), nil
	case arrow.DECIMAL128:
		x, y := a.(*array.Decimal128), b.(*array.Decimal128)
		return boolResult(ctx.Mem, n, validity, nulls, func(i int) bool {
			return test(op, x.Value(i).Cmp(y.Value(i)))
		}), nil
	case arrow.NULL:
		return ConstantArray(ctx.Mem, Bool, nil, n)
	}
	if validity != nil {
		validity.Release()
	}
	return nil, fmt.Errorf("cannot compare values of type %s", TypeName(a.DataType()))
}

func boolCmp(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

func compareFixed[T int64 | float64 | int32](ctx *Ctx, op cmpOp, x, y []T, n int, validity *memory.Buffer, nulls int) arrow.Array {
	buf := memory.NewResizableBuffer(ctx.Mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	for i := range bits {
		bits[i] = 0
	}
	// One loop per operator keeps the comparison out of the inner loop's branch.
	switch op {
	case opEq:
		for i := 0; i < n; i++ {
			if x[i] == y[i] {
				bits[i>>3] |= 1 << (i & 7)
			}
		}
	case opNe:
		for i := 0; i < n; i++ {
			if x[i] != y[i] {
				bits[i>>3] |= 1 << (i & 7)
			}
		}
	case opLt:
		for i := 0; i < n; i++ {
			if x[i] < y[i] {
				bits[i>>3] |= 1 << (i & 7)
			}
		}
	case opLe:
		for i := 0; i < n; i++ {
			if x[i] <= y[i] {
				bits[i>>3] |= 1 << (i & 7)
			}
		}
	case opGt:
		for i := 0; i < n; i++ {
			if x[i] > y[i] {
				bits[i>>3] |= 1 << (i & 7)
			}
		}
	case opGe:
		for i := 0; i < n; i++ {
			if x[i] >= y[i] {
				bits[i>>3] |= 1 << (i & 7)
			}
		}
	}
	return newFixedArray(Bool, n, validity, buf, nulls)
}

func hasNaN(v []float64) bool {
	for _, f := range v {
		if f != f {
			return true
		}
	}
	return false
}

// floatTotalCmp orders DOUBLE values as PostgreSQL does: NaN equals NaN and sorts above every
// other value (+Inf included), -0.0 equals 0.0. Comparisons, ORDER BY, joins and grouping all
// follow it (cmp.Compare would put NaN below -Inf).
func floatTotalCmp(x, y float64) int {
	xn, yn := x != x, y != y
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
