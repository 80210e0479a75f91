package planner

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Expr lowers a logical expression to an exec expression. Subqueries are run here.
func (l *Lowering) Expr(e Expr) (exec.Expr, error) {
	switch x := e.(type) {
	case *ColRef:
		return &exec.ColumnRef{Index: x.Index, Name: x.Name, Typ: x.Typ}, nil
	case *Const:
		return &exec.Literal{Value: x.Value, Typ: x.Typ}, nil
	case *Func:
		args, err := l.exprs(x.Args)
		if err != nil {
			return nil, err
		}
		if x.Name == "coalesce" && len(args) > 1 {
			// lazy per row, like CASE (PostgreSQL evaluates an argument only when needed)
			return exec.NewCoalesce(args, x.Bound.Ret)
		}
		return &exec.Call{Name: x.Name, Args: args, Bound: x.Bound}, nil
	case *Cast:
		in, err := l.Expr(x.X)
		if err != nil {
			return nil, err
		}
		return exec.NewCast(in, x.To)
	case *Case:
		var op, els exec.Expr
		var err error
		if x.Operand != nil {
			if op, err = l.Expr(x.Operand); err != nil {
				return nil, err
			}
		}
		if x.Else != nil {
			if els, err = l.Expr(x.Else); err != nil {
				return nil, err
			}
		}
		whens, err := l.exprs(x.Whens)
		if err != nil {
			return nil, err
		}
		thens, err := l.exprs(x.Thens)
		if err != nil {
			return nil, err
		}
		return exec.NewCase(op, whens, thens, els)
	case *InList:
		in, err := l.Expr(x.X)
		if err != nil {
			return nil, err
		}
		list, err := l.exprs(x.List)
		if err != nil {
			return nil, err
		}
		return exec.NewInList(in, list, x.Not)
	case *Subquery:
		if len(x.Outer) > 0 {
			return l.correlated(x)
		}
		return l.subquery(x)
	case *OuterRef:
		if x.Index >= len(l.outer) {
			// the subquery's plan is lowered as a plan of its own (a continuous query turns
			// subqueries over streams into joins), not once per outer row
			return nil, exec.Errorf("0A000", "a correlated subquery (reading %s of the outer query) is not supported in a continuous query; rewrite it as a join", x.Name)
		}
		return &exec.Literal{Value: l.outer[x.Index], Typ: x.Typ}, nil
	}
	return nil, fmt.Errorf("internal: cannot lower expression %T", e)
}

func (l *Lowering) exprs(es []Expr) ([]exec.Expr, error) {
	out := make([]exec.Expr, len(es))
	for i, e := range es {
		var err error
		if out[i], err = l.Expr(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// correlated lowers a correlated subquery to an expression that runs the subquery's plan once per
// distinct combination of the outer values it reads (each run lowers the plan with those values
// as constants). Batch queries only: a continuous query's tables may change between epochs, so
// answers cannot be kept, and re-running per row per epoch is not offered.
func (l *Lowering) correlated(s *Subquery) (exec.Expr, error) {
	if _, batch := l.physical().(BatchPhysical); !batch {
		return nil, exec.Errorf("0A000", "a correlated subquery (one reading columns of the outer query) is not supported in a continuous query; rewrite it as a join")
	}
	args, err := l.exprs(s.Outer)
	if err != nil {
		return nil, err
	}
	var x exec.Expr
	if s.Kind == SubqueryIn {
		// X is evaluated per row too: it becomes the last argument.
		if x, err = l.Expr(s.X); err != nil {
			return nil, err
		}
		args = append(args, x)
	}
	nOuter := len(s.Outer)
	run := func(vals []exec.Datum) (exec.Datum, error) {
		sub := *l
		sub.outer = append([]exec.Datum(nil), vals[:nOuter]...)
		if s.Kind == SubqueryIn {
			// The IN answer for this x: the uncorrelated path's constant IN list, evaluated
			// with x as a literal.
			u := *s
			u.Outer = nil
			u.X = &Const{Value: vals[nOuter], Typ: s.X.Type()}
			e, err := sub.subquery(&u)
			if err != nil {
				return nil, err
			}
			return exec.EvalScalar(sub.Ctx, e)
		}
		u := *s
		u.Outer = nil
		e, err := sub.subquery(&u)
		if err != nil {
			return nil, err
		}
		return exec.EvalScalar(sub.Ctx, e)
	}
	return &exec.Correlated{Args: args, Run: run, Typ: s.Typ, Desc: s.String()}, nil
}

// subquery runs an uncorrelated subquery and turns its rows into a constant (scalar, EXISTS) or a
// constant IN list.
func (l *Lowering) subquery(s *Subquery) (exec.Expr, error) {
	recs, err := l.Run(s.Plan)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	switch s.Kind {
	case SubqueryExists:
		return &exec.Literal{Value: (rows > 0) != s.Not, Typ: exec.Bool}, nil
	case SubqueryScalar:
		if rows > 1 {
			return nil, exec.Errorf(exec.CodeCardinality, "more than one row returned by a subquery used as an expression")
		}
		var v exec.Datum
		for _, r := range recs {
			if r.NumRows() > 0 {
				v = exec.ValueAt(r.Column(0), 0)
			}
		}
		return &exec.Literal{Value: v, Typ: s.Typ}, nil
	}
	x, err := l.Expr(s.X)
	if err != nil {
		return nil, err
	}
	var list []exec.Expr
	var elemType arrow.DataType = s.Plan.Columns()[0].Type
	for _, r := range recs {
		col := r.Column(0)
		for i := 0; i < col.Len(); i++ {
			list = append(list, &exec.Literal{Value: exec.ValueAt(col, i), Typ: elemType})
		}
	}
	if len(list) == 0 {
		// x IN (empty) is FALSE even for NULL x; NOT IN (empty) is TRUE.
		return &exec.Literal{Value: s.Not, Typ: exec.Bool}, nil
	}
	return exec.NewInList(x, list, s.Not)
}
