package exec

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// InList is x [NOT] IN (v1, v2, ...) with SQL semantics: TRUE when x equals some vi; otherwise NULL
// when x is NULL or some vi is NULL; otherwise FALSE. NOT IN negates TRUE and FALSE and keeps NULL.
//
// When every list element is a literal the values are converted once at construction into a hash
// set; otherwise each element is evaluated per batch and compared with "=".
type InList struct {
	E       Expr
	List    []Expr
	Negated bool
	typ     arrow.DataType // common type of E and the list
	eq      *Bound

	// Constant lists only.
	constant bool
	hasNull  bool
	ints     map[int64]struct{}
	strs     map[string]struct{}
	others   map[any]struct{}
}

// NewInList builds e [NOT] IN (list...). Every element must have a common type with e.
func NewInList(e Expr, list []Expr, negated bool) (Expr, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("IN list must not be empty")
	}
	t := e.Type()
	for _, l := range list {
		ct, ok := CommonType(t, l.Type())
		if !ok {
			return nil, fmt.Errorf("IN types %s and %s cannot be matched", TypeName(t), TypeName(l.Type()))
		}
		t = ct
	}
	if t.ID() == arrow.NULL {
		t = Bool
	}
	in := &InList{Negated: negated, typ: t}
	var err error
	if in.E, err = NewCast(e, t); err != nil {
		return nil, err
	}
	in.List = make([]Expr, len(list))
	in.constant = true
	for i, l := range list {
		if in.List[i], err = NewCast(l, t); err != nil {
			return nil, err
		}
		if _, ok := l.(*Literal); !ok {
			in.constant = false
		}
	}
	if in.constant {
		if err := in.buildSet(list); err != nil {
			return nil, err
		}
	} else if in.eq, err = BindCall("=", []arrow.DataType{t, t}); err != nil {
		return nil, err
	}
	return in, nil
}

// buildSet converts the literal list to the common type and fills the hash set.
func (in *InList) buildSet(list []Expr) error {
	ctx := &Ctx{Context: context.Background(), Mem: memory.DefaultAllocator, Now: time.Unix(0, 0)}
	switch in.typ.ID() {
	case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
		in.ints = map[int64]struct{}{}
	case arrow.STRING:
		in.strs = map[string]struct{}{}
	default:
		in.others = map[any]struct{}{}
	}
	for _, l := range list {
		lit := l.(*Literal)
		// Fast path (long generated lists): a value already of the set's type needs no
		// conversion through a one-element array.
		if lit.Value != nil && arrow.TypeEqual(lit.Typ, in.typ) {
			if x, ok := lit.Value.(int64); ok && in.ints != nil {
				in.ints[x] = struct{}{}
				continue
			}
			if x, ok := lit.Value.(string); ok && in.strs != nil {
				in.strs[x] = struct{}{}
				continue
			}
		}
		raw, err := ConstantArray(ctx.Mem, lit.Typ, lit.Value, 1)
		if err != nil {
			return err
		}
		conv, err := CastArray(ctx, raw, in.typ)
		raw.Release()
		if err != nil {
			return err
		}
		v := ValueAt(conv, 0)
		conv.Release()
		switch {
		case v == nil:
			in.hasNull = true
		case in.ints != nil:
			in.ints[v.(int64)] = struct{}{}
		case in.strs != nil:
			in.strs[v.(string)] = struct{}{}
		default:
			in.others[v] = struct{}{}
		}
	}
	return nil
}

func (in *InList) Type() arrow.DataType { return Bool }

func (in *InList) String() string {
	parts := make([]string, len(in.List))
	for i, l := range in.List {
		parts[i] = l.String()
	}
	op := " IN ("
	if in.Negated {
		op = " NOT IN ("
	}
	return "(" + in.E.String() + op + strings.Join(parts, ", ") + "))"
}

func (in *InList) Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	x, err := in.E.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	n := int(rec.NumRows())
	if in.constant {
		return in.evalConstant(ctx, x, n)
	}
	// found[i]: some element equals; unknown[i]: some comparison was NULL.
	found := make([]bool, n)
	unknown := make([]bool, n)
	for _, l := range in.List {
		v, err := l.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		eq, err := in.eq.Kernel(ctx, []arrow.Array{x, v}, n)
		v.Release()
		if err != nil {
			return nil, err
		}
		b := eq.(*array.Boolean)
		for i := 0; i < n; i++ {
			if b.IsNull(i) {
				unknown[i] = true
			} else if b.Value(i) {
				found[i] = true
			}
		}
		eq.Release()
	}
	return in.result(ctx, n, func(i int) (bool, bool) { return found[i], unknown[i] }), nil
}

func (in *InList) evalConstant(ctx *Ctx, x arrow.Array, n int) (arrow.Array, error) {
	var member func(i int) bool
	switch {
	case in.ints != nil:
		vals := fixedValues[int64](x)
		member = func(i int) bool { _, ok := in.ints[vals[i]]; return ok }
	case in.strs != nil:
		s := x.(*array.String)
		member = func(i int) bool { _, ok := in.strs[s.Value(i)]; return ok }
	default:
		member = func(i int) bool { _, ok := in.others[ValueAt(x, i)]; return ok }
	}
	return in.result(ctx, n, func(i int) (bool, bool) {
		if x.IsNull(i) {
			return false, true
		}
		return member(i), in.hasNull
	}), nil
}

// result combines per-row (found, unknown) into the three-valued answer.
func (in *InList) result(ctx *Ctx, n int, f func(i int) (found, unknown bool)) arrow.Array {
	b := array.NewBooleanBuilder(ctx.Mem)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		found, unknown := f(i)
		switch {
		case found:
			b.UnsafeAppend(!in.Negated)
		case unknown:
			b.UnsafeAppendBoolToBitmap(false)
		default:
			b.UnsafeAppend(in.Negated)
		}
	}
	return b.NewArray()
}
