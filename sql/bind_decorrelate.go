package sql

import (
	"strings"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Correlated subqueries in WHERE are decorrelated into joins. A top-level WHERE conjunct
//
//	[NOT] EXISTS (SELECT ... FROM f WHERE inner = outer AND p)    or    x IN (SELECT e FROM f WHERE inner = outer AND p)
//
// whose only references to the outer query are equalities between an inner and an outer
// expression becomes a LEFT JOIN of the outer input with
//
//	SELECT DISTINCT inner..., TRUE AS matched FROM f WHERE p      (x IN adds e = x as a pair)
//
// on outer = inner for every pair, and the conjunct becomes matched IS [NOT] NULL. The keys are
// distinct, so each outer row joins at most one row and the join neither duplicates nor drops
// outer rows; a NULL outer key matches nothing, as = does. Other correlated subqueries (and
// those outside WHERE) are bound with their outer references as planner.OuterRef and run per
// distinct outer value combination (planner.Subquery.Outer; batch queries only).

func splitAnd(e Expr) []Expr {
	if x, ok := e.(*Binary); ok && x.Op == "and" {
		return append(splitAnd(x.L), splitAnd(x.R)...)
	}
	return []Expr{e}
}

func isCorrelatedErr(err error) bool {
	return err != nil && strings.Contains(err.Error(), "correlated subqueries are not supported")
}

// where binds a WHERE clause over input, decorrelating the conjuncts it can; it returns the new
// input (with any joins added: their columns come after the input's, so sc stays valid) and the
// predicate.
func (b *binder) where(w Expr, input planner.Node, sc *scope) (planner.Node, planner.Expr, error) {
	var preds []planner.Expr
	for _, c := range splitAnd(w) {
		saved := b.noCorrelate
		b.noCorrelate = true
		p, err := b.expr(c, sc, nil)
		b.noCorrelate = saved
		if err == nil {
			if typed, ok := b.params.settle(p, exec.Bool); ok { // WHERE ... AND $1
				p = typed
			}
			preds = append(preds, p)
			continue
		}
		if !isCorrelatedErr(err) {
			return nil, nil, err
		}
		if n, subs, ok := b.decorrelateScalars(c, input, sc); ok {
			if p, perr := b.expr(c, sc, nil); perr == nil {
				input = n
				preds = append(preds, p)
				continue
			}
			for _, s := range subs {
				delete(b.scalarSubst, s)
			}
		}
		// correlated: a join when the form allows, else evaluated per outer row
		perRow := func() error {
			p, err := b.expr(c, sc, nil)
			if err == nil {
				preds = append(preds, p)
			}
			return err
		}
		sq, negate := c, false
		if u, ok := c.(*Unary); ok && u.Op == "not" {
			sq, negate = u.X, true
		}
		s, ok := sq.(*SubqueryExpr)
		if !ok || (s.Kind != SubExists && s.Kind != SubIn) || (s.Kind == SubIn && negate) {
			if err := perRow(); err != nil {
				return nil, nil, err
			}
			continue
		}
		n, pred, derr := b.decorrelate(s, negate, input, sc)
		if derr != nil {
			if isCorrelatedErr(derr) {
				if err := perRow(); err != nil {
					return nil, nil, err
				}
				continue
			}
			return nil, nil, derr
		}
		input = n
		preds = append(preds, pred)
	}
	pred, err := planner.And(preds)
	return input, pred, err
}

func (b *binder) decorrelate(s *SubqueryExpr, negate bool, input planner.Node, sc *scope) (planner.Node, planner.Expr, error) {
	refuse := func() error {
		return b.errorf(s.Pos, CodeFeatureNotSupported, "correlated subqueries are not supported in this form (only EXISTS and IN whose references to the outer query are equalities such as inner.a = outer.a); rewrite it as a join")
	}
	sel, ok := s.Query.body.(*Select)
	if !ok || len(s.Query.With) > 0 || len(sel.GroupBy) > 0 || sel.Having != nil || sel.Limit != nil || sel.Offset != nil || len(sel.DistinctOn) > 0 || hasAggregate(sel) || sel.Where == nil {
		return nil, nil, refuse()
	}
	inner := &binder{cat: b.cat, src: b.src, ctes: b.ctes, depth: b.depth, colPositions: b.colPositions, params: b.params}
	from, err := inner.from(sel.From, nil)
	if err != nil {
		return nil, nil, err
	}
	isc := scopeOf(from)
	var innerPreds, innerKeys, outerKeys []planner.Expr
	if s.Kind == SubIn {
		if len(sel.Items) != 1 || sel.Items[0].Star {
			return nil, nil, b.errorf(s.Pos, CodeSyntax, "subquery has too many columns")
		}
		ik, err := inner.expr(sel.Items[0].Expr, isc, nil)
		if err != nil {
			return nil, nil, err
		}
		ok, err := b.expr(s.X, sc, nil)
		if err != nil {
			return nil, nil, err
		}
		innerKeys, outerKeys = append(innerKeys, ik), append(outerKeys, ok)
	}
	for _, c := range splitAnd(sel.Where) {
		p, err := inner.expr(c, isc, nil)
		if err == nil {
			innerPreds = append(innerPreds, p)
			continue
		}
		eq, isEq := c.(*Binary)
		if !isEq || eq.Op != "=" {
			return nil, nil, refuse()
		}
		il, lerr := inner.expr(eq.L, isc, nil)
		or, rerr := b.expr(eq.R, sc, nil)
		if lerr != nil || rerr != nil {
			if or, lerr = b.expr(eq.L, sc, nil); lerr != nil {
				return nil, nil, refuse()
			}
			if il, rerr = inner.expr(eq.R, isc, nil); rerr != nil {
				return nil, nil, refuse()
			}
		}
		innerKeys, outerKeys = append(innerKeys, il), append(outerKeys, or)
	}
	if len(innerKeys) == 0 {
		return nil, nil, refuse()
	}
	var n planner.Node = from
	if len(innerPreds) > 0 {
		p, err := planner.And(innerPreds)
		if err != nil {
			return nil, nil, err
		}
		if err := requireBool(p, "WHERE"); err != nil {
			return nil, nil, b.errAt(sel.WherePos, CodeDatatypeMismatch, err)
		}
		n = &planner.Filter{Input: n, Pred: p}
	}
	exprs := append(append([]planner.Expr{}, innerKeys...), &planner.Const{Value: true, Typ: exec.Bool})
	cols := make([]planner.Column, len(exprs))
	for i, e := range exprs {
		cols[i] = planner.Column{Name: "\x00key", Type: e.Type()}
	}
	keys := distinct(&planner.Project{Input: n, Exprs: exprs, Cols: cols})
	nl := len(input.Columns())
	var conds []planner.Expr
	for i, ok := range outerKeys {
		eq, err := b.call("=", []planner.Expr{ok, &planner.ColRef{Index: nl + i, Name: "key", Typ: innerKeys[i].Type()}})
		if err != nil {
			return nil, nil, b.errAt(s.Pos, bindCode(err), err)
		}
		conds = append(conds, eq)
	}
	cond, err := planner.And(conds)
	if err != nil {
		return nil, nil, err
	}
	join := &planner.Join{Kind: planner.LeftJoin, Left: input, Right: keys, Cond: cond}
	fn := "is_not_null"
	if negate {
		fn = "is_null"
	}
	pred, err := b.call(fn, []planner.Expr{&planner.ColRef{Index: nl + len(innerKeys), Name: "matched", Typ: exec.Bool}})
	return join, pred, err
}
