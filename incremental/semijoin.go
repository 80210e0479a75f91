package incremental

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// rewriteSemiJoins turns every `x IN (SELECT y ...)` conjunct of a WHERE whose subquery reads a
// stream into a join with the subquery's distinct values: I WHERE x IN (S) AND rest becomes
// Project_I(Filter_rest(I JOIN DISTINCT(S) ON x = y)). Over a stream the join keeps both sides,
// so a row of I joins the values S holds at any time, as the batch query over the input so far
// would. x NULL never matches, as IN gives NULL (not TRUE) then; NOT IN, EXISTS and scalar
// subqueries reading a stream are left for Check to refuse. The rewrite builds new nodes along
// the way from the root to each rewritten filter; the rest of the plan is shared.
func rewriteSemiJoins(n planner.Node) (planner.Node, error) {
	switch x := n.(type) {
	case *planner.Filter:
		in, err := rewriteSemiJoins(x.Input)
		if err != nil {
			return nil, err
		}
		return semiJoinFilter(&planner.Filter{Input: in, Pred: x.Pred})
	case *planner.Project:
		in, err := rewriteSemiJoins(x.Input)
		return &planner.Project{Input: in, Exprs: x.Exprs, Cols: x.Cols}, err
	case *planner.Aggregate:
		in, err := rewriteSemiJoins(x.Input)
		c := *x
		c.Input = in
		return &c, err
	case *planner.WindowAssign:
		in, err := rewriteSemiJoins(x.Input)
		c := *x
		c.Input = in
		return &c, err
	case *planner.Explode:
		in, err := rewriteSemiJoins(x.Input)
		c := *x
		c.Input = in
		return &c, err
	case *planner.Sort:
		in, err := rewriteSemiJoins(x.Input)
		return &planner.Sort{Input: in, Keys: x.Keys}, err
	case *planner.Limit:
		in, err := rewriteSemiJoins(x.Input)
		return &planner.Limit{Input: in, Count: x.Count, Offset: x.Offset}, err
	case *planner.Join:
		l, err := rewriteSemiJoins(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := rewriteSemiJoins(x.Right)
		return &planner.Join{Kind: x.Kind, Left: l, Right: r, Cond: x.Cond}, err
	case *planner.Union:
		u := &planner.Union{Cols: x.Cols}
		for _, c := range x.Inputs {
			in, err := rewriteSemiJoins(c)
			if err != nil {
				return nil, err
			}
			u.Inputs = append(u.Inputs, in)
		}
		return u, nil
	}
	return n, nil
}

// semiJoinFilter rewrites the stream IN subqueries among f's conjuncts (see rewriteSemiJoins).
func semiJoinFilter(f *planner.Filter) (planner.Node, error) {
	var rest []planner.Expr
	var semis []*planner.Subquery
	for _, c := range planner.Conjuncts(f.Pred) {
		if sq, ok := c.(*planner.Subquery); ok && sq.Kind == planner.SubqueryIn && !sq.Not && len(planner.StreamingScans(sq.Plan)) > 0 {
			semis = append(semis, sq)
			continue
		}
		rest = append(rest, c)
	}
	if len(semis) == 0 {
		return f, nil
	}
	in := f.Input
	cols := in.Columns()
	var cur planner.Node = in
	for _, sq := range semis {
		width := len(cur.Columns())
		y := sq.Plan.Columns()[0]
		distinct := &planner.Aggregate{Input: sq.Plan,
			Groups: []planner.Expr{&planner.ColRef{Index: 0, Name: y.Name, Typ: y.Type}},
			Cols:   []planner.Column{{Name: y.Name, Type: y.Type}}}
		yref := planner.Expr(&planner.ColRef{Index: width, Name: y.Name, Typ: y.Type})
		bound, err := exec.BindCall("=", []arrow.DataType{sq.X.Type(), y.Type})
		if err != nil {
			return nil, fmt.Errorf("IN subquery: %w", err)
		}
		args := []planner.Expr{sq.X, yref}
		for i, a := range args {
			if !arrow.TypeEqual(a.Type(), bound.Args[i]) {
				args[i] = &planner.Cast{X: a, To: bound.Args[i]}
			}
		}
		cur = &planner.Join{Kind: planner.InnerJoin, Left: cur, Right: distinct, Cond: &planner.Func{Name: "=", Args: args, Bound: bound}}
	}
	if len(rest) > 0 {
		pred, err := planner.And(rest)
		if err != nil {
			return nil, err
		}
		cur = &planner.Filter{Input: cur, Pred: pred}
	}
	exprs := make([]planner.Expr, len(cols))
	for i, c := range cols {
		exprs[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
	}
	return &planner.Project{Input: cur, Exprs: exprs, Cols: cols}, nil
}
