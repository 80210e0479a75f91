package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Boolean connectives with SQL three-valued logic, and the IS [NOT] NULL/TRUE/FALSE predicates,
// which never return NULL.

func init() {
	register(&Function{Name: "and", Usage: "a AND b (BOOLEAN)", Bind: bindLogic2("and", func(x, xn, y, yn bool) (bool, bool) {
		switch {
		case !xn && !x, !yn && !y:
			return false, false
		case xn || yn:
			return false, true
		}
		return true, false
	})})
	register(&Function{Name: "or", Usage: "a OR b (BOOLEAN)", Bind: bindLogic2("or", func(x, xn, y, yn bool) (bool, bool) {
		switch {
		case !xn && x, !yn && y:
			return true, false
		case xn || yn:
			return false, true
		}
		return false, false
	})})
	register(&Function{Name: "not", Usage: "NOT a (BOOLEAN)", Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 1 || !boolish(args[0]) {
			return nil, ArgTypeError("not", "NOT a (BOOLEAN)", args)
		}
		return &Bound{Args: []arrow.DataType{Bool}, Ret: Bool, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x := a[0].(*array.Boolean)
			return boolsTo(ctx, a, n, func(i int) (bool, bool, error) { return !x.Value(i), false, nil })
		}}, nil
	}})
	// IS [NOT] NULL accepts any type.
	for _, neg := range []bool{false, true} {
		neg := neg
		name := "is_null"
		if neg {
			name = "is_not_null"
		}
		register(&Function{Name: name, Usage: "x IS [NOT] NULL", Bind: func(args []arrow.DataType) (*Bound, error) {
			if len(args) != 1 {
				return nil, ArgTypeError(name, "x IS [NOT] NULL", args)
			}
			return &Bound{Args: []arrow.DataType{args[0]}, Ret: Bool, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				x := a[0]
				return boolResult(ctx.Mem, n, nil, 0, func(i int) bool { return isNullAt(x, i) != neg }), nil
			}}, nil
		}})
	}
	// IS [NOT] TRUE/FALSE: f maps (value, isNull) to the answer.
	truth := map[string]func(v, null bool) bool{
		"is_true":      func(v, null bool) bool { return !null && v },
		"is_false":     func(v, null bool) bool { return !null && !v },
		"is_not_true":  func(v, null bool) bool { return null || !v },
		"is_not_false": func(v, null bool) bool { return null || v },
	}
	for name, f := range truth {
		name, f := name, f
		register(&Function{Name: name, Usage: "b IS [NOT] TRUE|FALSE (BOOLEAN)", Bind: func(args []arrow.DataType) (*Bound, error) {
			if len(args) != 1 || !boolish(args[0]) {
				return nil, ArgTypeError(name, "b IS [NOT] TRUE|FALSE (BOOLEAN)", args)
			}
			return &Bound{Args: []arrow.DataType{Bool}, Ret: Bool, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				x := a[0].(*array.Boolean)
				return boolResult(ctx.Mem, n, nil, 0, func(i int) bool { return f(x.Value(i), x.IsNull(i)) }), nil
			}}, nil
		}})
	}
}

func boolish(t arrow.DataType) bool { return t.ID() == arrow.BOOL || t.ID() == arrow.NULL }

// bindLogic2 binds a binary connective whose truth table f maps (x, xNull, y, yNull) to
// (result, resultNull). The kernel is not strict: NULL inputs go through f.
func bindLogic2(name string, f func(x, xn, y, yn bool) (bool, bool)) func([]arrow.DataType) (*Bound, error) {
	usage := fmt.Sprintf("a %s b (BOOLEAN)", name)
	return func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 2 || !boolish(args[0]) || !boolish(args[1]) {
			return nil, ArgTypeError(name, usage, args)
		}
		return &Bound{Args: []arrow.DataType{Bool, Bool}, Ret: Bool, Infix: true, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, y := a[0].(*array.Boolean), a[1].(*array.Boolean)
			b := array.NewBooleanBuilder(ctx.Mem)
			defer b.Release()
			b.Reserve(n)
			for i := 0; i < n; i++ {
				v, null := f(x.Value(i), x.IsNull(i), y.Value(i), y.IsNull(i))
				if null {
					b.UnsafeAppendBoolToBitmap(false)
				} else {
					b.UnsafeAppend(v)
				}
			}
			return b.NewArray(), nil
		}}, nil
	}
}
