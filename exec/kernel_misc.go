package exec

import (
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// NULL-handling functions and greatest/least. All arguments are converted to their CommonType.
// coalesce/ifnull/nvl return the first non-NULL argument; nullif(a, b) is NULL when a = b and a
// otherwise; greatest/least ignore NULLs and are NULL only when every argument is.

func init() {
	register(&Function{Name: "coalesce", Usage: "coalesce(value, ...)", Bind: bindCoalesce("coalesce", 1, 0)})
	register(&Function{Name: "ifnull", Usage: "ifnull(value, default)", Bind: bindCoalesce("ifnull", 2, 2)})
	register(&Function{Name: "nvl", Usage: "nvl(value, default)", Bind: bindCoalesce("nvl", 2, 2)})
	register(&Function{Name: "nullif", Usage: "nullif(a, b)", Bind: func(args []arrow.DataType) (*Bound, error) {
		t, err := commonOf("nullif", args, 2, 2)
		if err != nil {
			return nil, err
		}
		return &Bound{Args: types(t, t), Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			b := array.NewBuilder(ctx.Mem, t)
			defer b.Release()
			b.Reserve(n)
			for i := 0; i < n; i++ {
				if !a[0].IsNull(i) && !a[1].IsNull(i) && compareAt(a[0], i, a[1], i) == 0 {
					b.AppendNull()
				} else {
					appendFrom(b, a[0], i)
				}
			}
			return b.NewArray(), nil
		}}, nil
	}})
	for _, name := range []string{"greatest", "least"} {
		name := name
		want := 1
		if name == "least" {
			want = -1
		}
		register(&Function{Name: name, Usage: name + "(value, ...)", Bind: func(args []arrow.DataType) (*Bound, error) {
			t, err := commonOf(name, args, 1, 0)
			if err != nil {
				return nil, err
			}
			if t.ID() == arrow.LIST {
				return nil, ArgTypeError(name, name+"(value, ...)", args)
			}
			return &Bound{Args: repeatType(t, len(args)), Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				b := array.NewBuilder(ctx.Mem, t)
				defer b.Release()
				b.Reserve(n)
				for i := 0; i < n; i++ {
					best := -1
					for k := range a {
						if a[k].IsNull(i) {
							continue
						}
						if best < 0 || compareAt(a[k], i, a[best], i)*want > 0 {
							best = k
						}
					}
					if best < 0 {
						b.AppendNull()
					} else {
						appendFrom(b, a[best], i)
					}
				}
				return b.NewArray(), nil
			}}, nil
		}})
	}
}

func repeatType(t arrow.DataType, n int) []arrow.DataType {
	out := make([]arrow.DataType, n)
	for i := range out {
		out[i] = t
	}
	return out
}

// commonOf folds CommonType over args (between minN and maxN of them; maxN 0 = unbounded). An
// all-NULL list has type NULL.
func commonOf(name string, args []arrow.DataType, minN, maxN int) (arrow.DataType, error) {
	if len(args) < minN || (maxN > 0 && len(args) > maxN) {
		return nil, fmt.Errorf("function %s takes %s, got %d", name, argCount(minN, maxN), len(args))
	}
	t := args[0]
	for _, a := range args[1:] {
		ct, ok := CommonType(t, a)
		if !ok {
			names := make([]string, len(args))
			for i, x := range args {
				names[i] = TypeName(x)
			}
			return nil, fmt.Errorf("function %s: types %s and %s cannot be matched (arguments: %s)", name, TypeName(t), TypeName(a), strings.Join(names, ", "))
		}
		t = ct
	}
	return t, nil
}

func argCount(minN, maxN int) string {
	switch {
	case maxN == 0:
		return fmt.Sprintf("at least %d argument(s)", minN)
	case minN == maxN:
		return fmt.Sprintf("%d arguments", minN)
	}
	return fmt.Sprintf("%d to %d arguments", minN, maxN)
}

func bindCoalesce(name string, minN, maxN int) func([]arrow.DataType) (*Bound, error) {
	return func(args []arrow.DataType) (*Bound, error) {
		t, err := commonOf(name, args, minN, maxN)
		if err != nil {
			return nil, err
		}
		return &Bound{Args: repeatType(t, len(args)), Ret: t, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			// Common case: the first argument has no NULLs.
			if a[0].NullN() == 0 {
				a[0].Retain()
				return a[0], nil
			}
			b := array.NewBuilder(ctx.Mem, t)
			defer b.Release()
			b.Reserve(n)
			for i := 0; i < n; i++ {
				k := 0
				for k < len(a)-1 && a[k].IsNull(i) {
					k++
				}
				appendFrom(b, a[k], i)
			}
			return b.NewArray(), nil
		}}, nil
	}
}

// compareAt orders row i of x against row j of y (same type, both non-NULL): -1, 0 or 1. DOUBLE
// orders NaN above every other value, as PostgreSQL does.
func compareAt(x arrow.Array, i int, y arrow.Array, j int) int {
	switch xa := x.(type) {
	case *array.Int64:
		return cmp3(xa.Value(i), y.(*array.Int64).Value(j))
	case *array.Float64:
		a, b := xa.Value(i), y.(*array.Float64).Value(j)
		switch {
		case math.IsNaN(a) && math.IsNaN(b):
			return 0
		case math.IsNaN(a):
			return 1
		case math.IsNaN(b):
			return -1
		}
		return cmp3(a, b)
	case *array.String:
		return strings.Compare(xa.Value(i), y.(*array.String).Value(j))
	case *array.Boolean:
		return boolCmp(xa.Value(i), y.(*array.Boolean).Value(j))
	case *array.Timestamp:
		return cmp3(xa.Value(i), y.(*array.Timestamp).Value(j))
	case *array.Date32:
		return cmp3(xa.Value(i), y.(*array.Date32).Value(j))
	case *array.Duration:
		return cmp3(xa.Value(i), y.(*array.Duration).Value(j))
	case *array.Decimal128:
		return decCmp(xa.Value(i), y.(*array.Decimal128).Value(j))
	}
	return strings.Compare(FormatValue(x, i), FormatValue(y, j))
}

func decCmp(a, b decimal128.Num) int { return a.Cmp(b) }

func cmp3[T int64 | float64 | arrow.Timestamp | arrow.Date32 | arrow.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
