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
		return l.subquery(x)
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
			return nil, fmt.Errorf("more than one row returned by a subquery used as an expression")
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
