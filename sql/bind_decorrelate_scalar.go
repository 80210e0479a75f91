package sql

import (
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Correlated scalar subqueries inside a WHERE conjunct (catalog queries such as JDBC's
// getTypeInfo: "t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_class c WHERE c.oid =
// t.typrelid)") are decorrelated like EXISTS (see bind_decorrelate.go): a subquery
//
//	(SELECT v FROM f WHERE inner = outer AND p)
//
// whose only references to the outer query are such equalities becomes a LEFT JOIN of the outer
// input with
//
//	SELECT inner..., count(*) AS n, max(v) AS v FROM f WHERE p GROUP BY inner...
//
// on outer = inner, and the subquery's value is v, or the error PostgreSQL raises (21000) when
// n > 1. Grouping keeps one row per key, so the join neither duplicates nor drops outer rows.

// decorrelateScalars joins input with every correlated scalar subquery of conjunct c that has
// that form and records the value each stands for in b.scalarSubst. ok is false (and nothing
// recorded) when c has none or one that does not have the form.
func (b *binder) decorrelateScalars(c Expr, input planner.Node, sc *scope) (planner.Node, []*SubqueryExpr, bool) {
	var subs []*SubqueryExpr
	WalkExpr(c, func(e Expr) bool {
		if s, ok := e.(*SubqueryExpr); ok && s.Kind == SubScalar {
			subs = append(subs, s)
			return false
		}
		return true
	})
	if len(subs) == 0 {
		return nil, nil, false
	}
	if b.scalarSubst == nil {
		b.scalarSubst = map[*SubqueryExpr]planner.Expr{}
	}
	var done []*SubqueryExpr
	for _, s := range subs {
		if _, err := b.expr(s, sc, nil); err == nil {
			continue // not correlated
		}
		n, v, ok := b.decorrelateScalar(s, input, sc)
		if !ok {
			for _, d := range done {
				delete(b.scalarSubst, d)
			}
			return nil, nil, false
		}
		input = n
		b.scalarSubst[s] = v
		done = append(done, s)
	}
	return input, done, len(done) > 0
}

func (b *binder) decorrelateScalar(s *SubqueryExpr, input planner.Node, sc *scope) (planner.Node, planner.Expr, bool) {
	sel, ok := s.Query.body.(*Select)
	if !ok || len(s.Query.With) > 0 || len(sel.GroupBy) > 0 || sel.Having != nil || sel.Limit != nil || sel.Offset != nil || len(sel.DistinctOn) > 0 || sel.Distinct || hasAggregate(sel) || sel.Where == nil || len(sel.Items) != 1 || sel.Items[0].Star {
		return nil, nil, false
	}
	inner := &binder{cat: b.cat, src: b.src, ctes: b.ctes, depth: b.depth, colPositions: b.colPositions, params: b.params}
	from, err := inner.from(sel.From, nil)
	if err != nil {
		return nil, nil, false
	}
	isc := scopeOf(from)
	val, err := inner.expr(sel.Items[0].Expr, isc, nil)
	if err != nil {
		return nil, nil, false
	}
	var innerPreds, innerKeys, outerKeys []planner.Expr
	for _, c := range splitAnd(sel.Where) {
		if p, err := inner.expr(c, isc, nil); err == nil {
			innerPreds = append(innerPreds, p)
			continue
		}
		eq, isEq := c.(*Binary)
		if !isEq || eq.Op != "=" {
			return nil, nil, false
		}
		il, lerr := inner.expr(eq.L, isc, nil)
		or, rerr := b.expr(eq.R, sc, nil)
		if lerr != nil || rerr != nil {
			if or, lerr = b.expr(eq.L, sc, nil); lerr != nil {
				return nil, nil, false
			}
			if il, rerr = inner.expr(eq.R, isc, nil); rerr != nil {
				return nil, nil, false
			}
		}
		innerKeys, outerKeys = append(innerKeys, il), append(outerKeys, or)
	}
	if len(innerKeys) == 0 {
		return nil, nil, false
	}
	var n planner.Node = from
	if len(innerPreds) > 0 {
		p, err := planner.And(innerPreds)
		if err != nil || requireBool(p, "WHERE") != nil {
			return nil, nil, false
		}
		n = &planner.Filter{Input: n, Pred: p}
	}
	exprs := append(append([]planner.Expr{}, innerKeys...), val)
	cols := make([]planner.Column, len(exprs))
	for i, e := range exprs {
		cols[i] = planner.Column{Name: "\x00key", Type: e.Type()}
	}
	proj := &planner.Project{Input: n, Exprs: exprs, Cols: cols}
	k := len(innerKeys)
	groups := make([]planner.Expr, k)
	for i := range groups {
		groups[i] = &planner.ColRef{Index: i, Name: "key", Typ: innerKeys[i].Type()}
	}
	vt, err := exec.AggResultType(exec.AggMax, val.Type())
	if err != nil {
		return nil, nil, false
	}
	agg := &planner.Aggregate{Input: proj, Groups: groups,
		Aggs: []planner.AggCall{{Kind: exec.AggCountStar}, {Kind: exec.AggMax, Arg: &planner.ColRef{Index: k, Name: "v", Typ: val.Type()}}},
		Cols: append(append([]planner.Column{}, cols[:k]...), planner.Column{Name: "\x00n", Type: exec.Int64}, planner.Column{Name: "\x00v", Type: vt})}
	nl := len(input.Columns())
	var conds []planner.Expr
	for i, ok := range outerKeys {
		eq, err := b.call("=", []planner.Expr{ok, &planner.ColRef{Index: nl + i, Name: "key", Typ: innerKeys[i].Type()}})
		if err != nil {
			return nil, nil, false
		}
		conds = append(conds, eq)
	}
	cond, err := planner.And(conds)
	if err != nil {
		return nil, nil, false
	}
	join := &planner.Join{Kind: planner.LeftJoin, Left: input, Right: agg, Cond: cond}
	v, err := b.call("__scalar_subquery", []planner.Expr{&planner.ColRef{Index: nl + k, Name: "n", Typ: exec.Int64}, &planner.ColRef{Index: nl + k + 1, Name: "v", Typ: vt}})
	if err != nil {
		return nil, nil, false
	}
	return join, v, true
}
