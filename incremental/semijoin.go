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
		in, pred := scalarJoins(in, []planner.Expr{x.Pred})
		f, err := semiJoinFilter(&planner.Filter{Input: in, Pred: pred[0]})
		if err != nil || in == x.Input {
			return f, err
		}
		return projectTo(f, x.Input.Columns()), nil
	case *planner.Project:
		in, err := rewriteSemiJoins(x.Input)
		if err != nil {
			return nil, err
		}
		in, exprs := scalarJoins(in, x.Exprs)
		return &planner.Project{Input: in, Exprs: exprs, Cols: x.Cols}, nil
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
	return projectTo(cur, cols), nil
}

// projectTo keeps the leading columns cols of n.
func projectTo(n planner.Node, cols []planner.Column) planner.Node {
	exprs := make([]planner.Expr, len(cols))
	for i, c := range cols {
		exprs[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
	}
	return &planner.Project{Input: n, Exprs: exprs, Cols: cols}
}

// scalarJoins rewrites the scalar subqueries of exprs (over in) that read a stream and always
// return one row (an aggregate without GROUP BY, under projections) into a cross join of in with
// the subquery, each subquery replaced by a reference to its column: the one-row result changes
// as the stream grows (retracting its old row), and the join re-pairs every row of in with it.
// Other scalar subqueries are left for Check. It returns in itself when nothing changed.
func scalarJoins(in planner.Node, exprs []planner.Expr) (planner.Node, []planner.Expr) {
	if len(planner.StreamingScans(in)) == 0 {
		// The subquery's side would be the stream of a stream-static join built from the
		// stream (its right side), which cannot take retractions: left for Check to refuse.
		return in, exprs
	}
	cur := in
	out := append([]planner.Expr{}, exprs...)
	for i := range out {
		for {
			var sq *planner.Subquery
			planner.Walk(out[i], func(e planner.Expr) {
				if s, ok := e.(*planner.Subquery); ok && sq == nil && s.Kind == planner.SubqueryScalar &&
					len(planner.StreamingScans(s.Plan)) > 0 && oneRow(s.Plan) && len(s.Plan.Columns()) == 1 {
					sq = s
				}
			})
			if sq == nil {
				break
			}
			width := len(cur.Columns())
			c := sq.Plan.Columns()[0]
			cur = &planner.Join{Kind: planner.CrossJoin, Left: cur, Right: sq.Plan}
			var ref planner.Expr = &planner.ColRef{Index: width, Name: c.Name, Typ: c.Type}
			if !arrow.TypeEqual(c.Type, sq.Typ) {
				ref = &planner.Cast{X: ref, To: sq.Typ}
			}
			out[i] = replaceExpr(out[i], sq, ref)
		}
	}
	return cur, out
}

// oneRow: an aggregate without GROUP BY (under projections) returns exactly one row.
func oneRow(n planner.Node) bool {
	switch x := n.(type) {
	case *planner.Project:
		return oneRow(x.Input)
	case *planner.Aggregate:
		return len(x.Groups) == 0 && x.Session == nil
	}
	return false
}

// replaceExpr returns e with the expression old (by identity) replaced by with.
func replaceExpr(e, old, with planner.Expr) planner.Expr {
	if e == old {
		return with
	}
	switch x := e.(type) {
	case *planner.Func:
		args := make([]planner.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = replaceExpr(a, old, with)
		}
		return &planner.Func{Name: x.Name, Args: args, Bound: x.Bound}
	case *planner.Cast:
		return &planner.Cast{X: replaceExpr(x.X, old, with), To: x.To}
	case *planner.Case:
		c := &planner.Case{Typ: x.Typ}
		if x.Operand != nil {
			c.Operand = replaceExpr(x.Operand, old, with)
		}
		if x.Else != nil {
			c.Else = replaceExpr(x.Else, old, with)
		}
		for i := range x.Whens {
			c.Whens = append(c.Whens, replaceExpr(x.Whens[i], old, with))
			c.Thens = append(c.Thens, replaceExpr(x.Thens[i], old, with))
		}
		return c
	case *planner.InList:
		l := &planner.InList{X: replaceExpr(x.X, old, with), Not: x.Not}
		for _, a := range x.List {
			l.List = append(l.List, replaceExpr(a, old, with))
		}
		return l
	case *planner.Subquery:
		s := *x
		if x.X != nil {
			s.X = replaceExpr(x.X, old, with)
		}
		return &s
	}
	return e
}
