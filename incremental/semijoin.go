package incremental

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// rewriteSemiJoins turns every `x IN (SELECT y ...)` conjunct of a WHERE whose subquery reads a
// stream into a join with the subquery's distinct values: I WHERE x IN (S) AND rest becomes
// Project_I(Filter_rest(I JOIN DISTINCT(S) ON x = y)). Over a stream the join keeps both sides,
// so a row of I joins the values S holds at any time, as the batch query over the input so far
// would. x NULL never matches, as IN gives NULL (not TRUE) then. The other subqueries reading a
// stream (NOT IN, IN elsewhere than a WHERE conjunct, EXISTS, scalar) become joins with small
// derived relations (subqueryJoins). The rewrite builds new nodes along the way from the root to
// each rewritten node; the rest of the plan is shared.
func rewriteSemiJoins(n planner.Node) (planner.Node, error) {
	switch x := n.(type) {
	case *planner.Filter:
		in, err := rewriteSemiJoins(x.Input)
		if err != nil {
			return nil, err
		}
		in, pred, err := subqueryJoins(in, []planner.Expr{x.Pred}, conjunctIns(x.Pred))
		if err != nil {
			return nil, err
		}
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
		in, exprs, err := subqueryJoins(in, x.Exprs, nil)
		if err != nil {
			return nil, err
		}
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
	case *planner.Window:
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

// refuseAppendSubqueries refuses, in append mode, a plan with a subquery reading a stream: every
// form of it joins a relation derived from the subquery (distinct values, counts) that changes as
// the stream grows, so rows emitted earlier are retracted.
func refuseAppendSubqueries(n planner.Node) error {
	for _, sq := range planner.Subqueries(n) {
		if scans := planner.StreamingScans(sq.Plan); len(scans) > 0 {
			return fmt.Errorf("output_mode = 'append' is not supported for %s reading the stream %s (in %s): its answer changes as the stream grows, retracting rows emitted earlier; use update or complete", subqueryKind(sq), scans[0].Table, n.Describe())
		}
	}
	for _, c := range n.Children() {
		if err := refuseAppendSubqueries(c); err != nil {
			return err
		}
	}
	return nil
}

// subqueryKind names sq's kind for messages.
func subqueryKind(sq *planner.Subquery) string {
	switch {
	case sq.Kind == planner.SubqueryScalar:
		return "a scalar subquery"
	case sq.Kind == planner.SubqueryExists && sq.Not:
		return "a NOT EXISTS subquery"
	case sq.Kind == planner.SubqueryExists:
		return "an EXISTS subquery"
	case sq.Not:
		return "a NOT IN subquery"
	}
	return "an IN subquery"
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

// conjunctIns returns the `x IN (SELECT ...)` subqueries reading a stream that are conjuncts of
// pred: semiJoinFilter turns those into inner joins, so subqueryJoins leaves them alone.
func conjunctIns(pred planner.Expr) map[*planner.Subquery]bool {
	out := map[*planner.Subquery]bool{}
	for _, c := range planner.Conjuncts(pred) {
		if sq, ok := c.(*planner.Subquery); ok && sq.Kind == planner.SubqueryIn && !sq.Not {
			out[sq] = true
		}
	}
	return out
}

// codeCardinality is PostgreSQL's cardinality_violation: a scalar subquery returned several rows.
const codeCardinality = "21000"

// subqueryJoins rewrites the subqueries of exprs (over in) that read a stream into joins of in
// with small relations derived from the subquery, each subquery replaced by an expression over
// the joined columns (in's columns stay first, so the other references of exprs hold). Every
// derived relation is itself a continuous query, so its answer follows the stream, retractions
// included, and the joins re-pair the rows of in when it changes:
//
//   - a scalar subquery of one row (an aggregate without GROUP BY): a cross join with it.
//   - another scalar subquery: a cross join with (count(*), min(y)) of its rows; the value is y
//     while the subquery has at most one row (NULL with none), and evaluating it fails, as the
//     batch query fails, while it has more.
//   - EXISTS: a cross join with the gate count(*) > 0 of its rows, kept as a DISTINCT over the
//     one-row count so it changes only when the answer flips (a further row of the subquery
//     re-pairs nothing).
//   - x [NOT] IN (other than a WHERE conjunct x IN, see semiJoinFilter): a LEFT JOIN with the
//     subquery's distinct non-NULL values (matched) and a cross join with the gate (empty, holds a
//     NULL) of its rows, again a DISTINCT over one counting row; a CASE gives SQL's three-valued
//     answer exactly as PostgreSQL does: over an empty subquery IN is FALSE and NOT IN TRUE (even
//     for a NULL x); otherwise a NULL x gives NULL, a match TRUE (NOT IN: FALSE), no match NULL
//     when the subquery holds a NULL and FALSE (NOT IN: TRUE) when not.
//
// skip names subqueries to leave alone. When in reads no stream, a cross join puts the derived
// relation on the left (the stream side of a stream-static join) and a projection restores the
// column order; the LEFT JOIN of an IN needs in to read a stream and is otherwise left for Check
// to refuse. It returns in itself when nothing changed.
func subqueryJoins(in planner.Node, exprs []planner.Expr, skip map[*planner.Subquery]bool) (planner.Node, []planner.Expr, error) {
	cur := in
	out := append([]planner.Expr{}, exprs...)
	left := map[*planner.Subquery]bool{}
	for k := range skip {
		left[k] = true
	}
	for i := range out {
		for {
			var sq *planner.Subquery
			planner.Walk(out[i], func(e planner.Expr) {
				if s, ok := e.(*planner.Subquery); ok && sq == nil && !left[s] && len(planner.StreamingScans(s.Plan)) > 0 {
					sq = s
				}
			})
			if sq == nil {
				break
			}
			next, with, err := subqueryJoin(cur, sq)
			if err != nil {
				return nil, nil, err
			}
			if with == nil {
				left[sq] = true // left for Check to refuse
				continue
			}
			cur = next
			out[i] = replaceExpr(out[i], sq, with)
		}
	}
	return cur, out, nil
}

// subqueryJoin joins cur with the relation sq needs (see subqueryJoins) and returns the
// expression replacing sq; a nil expression leaves sq alone.
func subqueryJoin(cur planner.Node, sq *planner.Subquery) (planner.Node, planner.Expr, error) {
	cols := sq.Plan.Columns()
	streamOuter := len(planner.StreamingScans(cur)) > 0
	switch sq.Kind {
	case planner.SubqueryScalar:
		if len(cols) != 1 {
			return nil, nil, nil
		}
		c := cols[0]
		if oneRow(sq.Plan) {
			next, off := crossJoin(cur, sq.Plan)
			return next, castTo(&planner.ColRef{Index: off, Name: c.Name, Typ: c.Type}, sq.Typ), nil
		}
		arg := &planner.ColRef{Index: 0, Name: c.Name, Typ: c.Type}
		agg := &planner.Aggregate{Input: sq.Plan,
			Aggs: []planner.AggCall{{Kind: exec.AggCountStar}, {Kind: exec.AggMin, Arg: arg}},
			Cols: []planner.Column{{Name: "rows", Type: exec.Int64}, {Name: c.Name, Type: c.Type}}}
		next, off := crossJoin(cur, agg)
		one := &planner.Func{Name: "scalar_subquery", Args: []planner.Expr{
			&planner.ColRef{Index: off, Name: "rows", Typ: exec.Int64}, &planner.ColRef{Index: off + 1, Name: c.Name, Typ: c.Type}},
			Bound: &exec.Bound{Args: []arrow.DataType{exec.Int64, c.Type}, Ret: c.Type, Kernel: atMostOneRow}}
		return next, castTo(one, sq.Typ), nil
	case planner.SubqueryExists:
		count := &planner.Aggregate{Input: sq.Plan, Aggs: []planner.AggCall{{Kind: exec.AggCountStar}},
			Cols: []planner.Column{{Name: "rows", Type: exec.Int64}}}
		some, err := call(">", &planner.ColRef{Index: 0, Name: "rows", Typ: exec.Int64}, &planner.Const{Value: int64(0), Typ: exec.Int64})
		if err != nil {
			return nil, nil, err
		}
		gate := distinctOf(&planner.Project{Input: count, Exprs: []planner.Expr{some}, Cols: []planner.Column{{Name: "exists", Type: exec.Bool}}})
		next, off := crossJoin(cur, gate)
		var e planner.Expr = &planner.ColRef{Index: off, Name: "exists", Typ: exec.Bool}
		if sq.Not {
			if e, err = call("not", e); err != nil {
				return nil, nil, err
			}
		}
		return next, e, nil
	case planner.SubqueryIn:
		if !streamOuter || len(cols) != 1 {
			return nil, nil, nil
		}
		return inJoin(cur, sq)
	}
	return nil, nil, nil
}

// inJoin is the x [NOT] IN rewrite of subqueryJoins.
func inJoin(cur planner.Node, sq *planner.Subquery) (planner.Node, planner.Expr, error) {
	y := sq.Plan.Columns()[0]
	y0 := &planner.ColRef{Index: 0, Name: y.Name, Typ: y.Type}
	notNull, err := call("is_not_null", y0)
	if err != nil {
		return nil, nil, err
	}
	values := distinctOf(&planner.Filter{Input: sq.Plan, Pred: notNull})
	width := len(cur.Columns())
	yref := planner.Expr(&planner.ColRef{Index: width, Name: y.Name, Typ: y.Type})
	bound, err := exec.BindCall("=", []arrow.DataType{sq.X.Type(), y.Type})
	if err != nil {
		return nil, nil, fmt.Errorf("IN subquery: %w", err)
	}
	args := []planner.Expr{sq.X, yref}
	for i, a := range args {
		args[i] = castTo(a, bound.Args[i])
	}
	cur = &planner.Join{Kind: planner.LeftJoin, Left: cur, Right: values, Cond: &planner.Func{Name: "=", Args: args, Bound: bound}}
	matched, err := call("is_not_null", yref)
	if err != nil {
		return nil, nil, err
	}
	counts := &planner.Aggregate{Input: sq.Plan,
		Aggs: []planner.AggCall{{Kind: exec.AggCountStar}, {Kind: exec.AggCount, Arg: y0}},
		Cols: []planner.Column{{Name: "rows", Type: exec.Int64}, {Name: "values", Type: exec.Int64}}}
	rows := &planner.ColRef{Index: 0, Name: "rows", Typ: exec.Int64}
	empty, err := call("=", rows, &planner.Const{Value: int64(0), Typ: exec.Int64})
	if err != nil {
		return nil, nil, err
	}
	hasNull, err := call(">", rows, &planner.ColRef{Index: 1, Name: "values", Typ: exec.Int64})
	if err != nil {
		return nil, nil, err
	}
	gate := distinctOf(&planner.Project{Input: counts, Exprs: []planner.Expr{empty, hasNull},
		Cols: []planner.Column{{Name: "empty", Type: exec.Bool}, {Name: "has_null", Type: exec.Bool}}})
	cur, off := crossJoin(cur, gate)
	xNull, err := call("is_null", sq.X)
	if err != nil {
		return nil, nil, err
	}
	truth := func(v bool) planner.Expr { return &planner.Const{Value: v != sq.Not, Typ: exec.Bool} }
	null := &planner.Const{Value: nil, Typ: exec.Bool}
	value := &planner.Case{Typ: exec.Bool,
		Whens: []planner.Expr{&planner.ColRef{Index: off, Name: "empty", Typ: exec.Bool}, xNull, matched,
			&planner.ColRef{Index: off + 1, Name: "has_null", Typ: exec.Bool}},
		Thens: []planner.Expr{truth(false), null, truth(true), null},
		Else:  truth(false)}
	return cur, value, nil
}

// crossJoin joins cur with r (a relation of few rows) and returns the join and the index of r's
// first column in it; cur's columns come first. When cur reads no stream, r is put on the left,
// where a stream-static join takes its stream, under a projection restoring that order.
func crossJoin(cur, r planner.Node) (planner.Node, int) {
	width := len(cur.Columns())
	if len(planner.StreamingScans(cur)) > 0 {
		return &planner.Join{Kind: planner.CrossJoin, Left: cur, Right: r}, width
	}
	j := &planner.Join{Kind: planner.CrossJoin, Left: r, Right: cur}
	rc, cc := r.Columns(), cur.Columns()
	var exprs []planner.Expr
	var cols []planner.Column
	for i, c := range cc {
		exprs = append(exprs, &planner.ColRef{Index: len(rc) + i, Name: c.Name, Typ: c.Type})
		cols = append(cols, c)
	}
	for i, c := range rc {
		exprs = append(exprs, &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type})
		cols = append(cols, c)
	}
	return &planner.Project{Input: j, Exprs: exprs, Cols: cols}, width
}

// distinctOf is SELECT DISTINCT over n: over a stream, a retracting aggregate that emits a row
// only when it appears or disappears.
func distinctOf(n planner.Node) *planner.Aggregate {
	cols := n.Columns()
	groups := make([]planner.Expr, len(cols))
	out := make([]planner.Column, len(cols))
	for i, c := range cols {
		groups[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
		out[i] = planner.Column{Name: c.Name, Type: c.Type}
	}
	return &planner.Aggregate{Input: n, Groups: groups, Cols: out}
}

// call binds the function name over args, casting the arguments to the types it takes.
func call(name string, args ...planner.Expr) (planner.Expr, error) {
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.Type()
	}
	bound, err := exec.BindCall(name, types)
	if err != nil {
		return nil, err
	}
	cast := make([]planner.Expr, len(args))
	for i, a := range args {
		cast[i] = castTo(a, bound.Args[i])
	}
	return &planner.Func{Name: name, Args: cast, Bound: bound}, nil
}

func castTo(e planner.Expr, t arrow.DataType) planner.Expr {
	if arrow.TypeEqual(e.Type(), t) {
		return e
	}
	return &planner.Cast{X: e, To: t}
}

// atMostOneRow is the kernel of a scalar subquery's value over its (count, min) row: the value
// while the subquery has at most one row, a cardinality error (as the batch query gives) when a
// row of the outer query meets a subquery of several rows.
func atMostOneRow(_ *exec.Ctx, args []arrow.Array, n int) (arrow.Array, error) {
	counts := args[0].(*array.Int64)
	for i := 0; i < n; i++ {
		if counts.IsValid(i) && counts.Value(i) > 1 {
			return nil, exec.Errorf(codeCardinality, "more than one row returned by a subquery used as an expression (it reads a stream that now holds %d rows)", counts.Value(i))
		}
	}
	args[1].Retain()
	return args[1], nil
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
