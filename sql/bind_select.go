package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// selectItem is one output column before projection.
type selectItem struct {
	expr    planner.Expr
	name    string
	explode bool
	pos     int
}

func (b *binder) selectQuery(sel *Select, outer *scope) (planner.Node, error) {
	if err := b.sessionTVF(sel); err != nil {
		return nil, err
	}
	if n, ok, err := b.emptyCatalogSelect(sel, outer); ok {
		return n, err
	}
	input, err := b.from(sel.From, outer)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(input)
	sc.outer = outer
	if sel.Where != nil {
		var pred planner.Expr
		input, pred, err = b.where(sel.Where, input, sc)
		if err != nil {
			return nil, err
		}
		if err := requireBool(pred, "WHERE"); err != nil {
			return nil, b.errAt(sel.WherePos, CodeDatatypeMismatch, err)
		}
		input = &planner.Filter{Input: input, Pred: pred}
	}
	savedWin, savedSession := b.win, b.sessionCols
	defer func() { b.win, b.sessionCols = savedWin, savedSession }()
	b.sessionCols = 0
	if input, sc, b.win, err = b.windowFromGroupBy(sel.GroupBy, input, sc); err != nil {
		return nil, err
	}
	grouped := len(sel.GroupBy) > 0 || hasAggregate(sel)
	var agg *aggContext
	if grouped {
		agg = &aggContext{}
	}
	savedWctx := b.wctx
	defer func() { b.wctx = savedWctx }()
	b.wctx = &windowCtx{}
	items, err := b.selectItems(sel.Items, sc, agg)
	if err != nil {
		return nil, err
	}
	var having planner.Expr
	if sel.Having != nil {
		if !grouped {
			agg = &aggContext{}
		}
		if having, err = b.expr(sel.Having, sc, agg); err != nil {
			return nil, err
		}
		if err := requireBool(having, "HAVING"); err != nil {
			return nil, b.errAt(sel.HavingPos, CodeDatatypeMismatch, err)
		}
		grouped = true
	}
	// ORDER BY items: an output ordinal, an output name, or an expression over the input.
	type orderItem struct {
		output int // >= 0: refers to items[output]
		pos    int
		expr   planner.Expr
		desc   bool
		nulls  bool
	}
	var order []orderItem
	for _, o := range sel.OrderBy {
		it := orderItem{output: -1, desc: o.Desc, nulls: nullsFirst(o), pos: o.Pos}
		if n, ok := ordinal(o.Expr); ok {
			if n < 1 || n > len(items) {
				return nil, b.errorf(o.Expr.Position(), CodeInvalidColumnRef, "ORDER BY position %d is not in select list", n)
			}
			it.output = n - 1
		} else if c, ok := o.Expr.(*ColName); ok && c.Table == "" && outputIndex(items, c.Name) >= 0 {
			it.output = outputIndex(items, c.Name)
		} else {
			e, err := b.expr(o.Expr, sc, agg)
			if err != nil {
				return nil, err
			}
			it.expr = e
		}
		order = append(order, it)
	}
	wcalls := b.wctx.calls
	b.wctx = nil
	var distinctOn *winCall
	if len(sel.DistinctOn) > 0 {
		// DISTINCT ON (keys) keeps the first row of each group of keys in ORDER BY order: the
		// rows whose row_number() OVER (PARTITION BY keys ORDER BY ...) is 1.
		if grouped || sel.Having != nil {
			return nil, b.errorf(sel.Pos, CodeFeatureNotSupported, "DISTINCT ON with GROUP BY or aggregates is not supported; group in a subquery")
		}
		distinctOn = &winCall{fn: exec.WindowFunc{Name: "row_number", Arg: -1, Def: -1, Type: exec.Int64}, pos: sel.Pos, str: "row_number() OVER (DISTINCT ON)", spec: "\x00distinct on"}
		for _, e := range sel.DistinctOn {
			pe, err := b.distinctOnKey(e, items, sc)
			if err != nil {
				return nil, err
			}
			distinctOn.partition = append(distinctOn.partition, pe)
		}
		for _, o := range order {
			e := o.expr
			if o.output >= 0 {
				e = items[o.output].expr
			}
			distinctOn.order = append(distinctOn.order, planner.SortKey{Expr: e, Desc: o.desc, NullsFirst: o.nulls})
		}
		wcalls = append(wcalls, distinctOn)
	}
	if len(wcalls) > 0 {
		if grouped || sel.Having != nil {
			return nil, b.errorf(wcalls[0].pos, CodeFeatureNotSupported, "window functions in a query with GROUP BY or aggregates are not supported; compute the aggregates in a subquery")
		}
		if input, err = b.buildWindows(input, wcalls); err != nil {
			return nil, err
		}
		if distinctOn != nil {
			first, err := b.call("=", []planner.Expr{&planner.ColRef{Index: distinctOn.col, Name: distinctOn.str, Typ: exec.Int64}, &planner.Const{Value: int64(1), Typ: exec.Int64}})
			if err != nil {
				return nil, err
			}
			input = &planner.Filter{Input: input, Pred: first}
		}
		for i := range items {
			items[i].expr = resolveWinRefs(items[i].expr, wcalls)
		}
		for i := range order {
			if order[i].expr != nil {
				order[i].expr = resolveWinRefs(order[i].expr, wcalls)
			}
		}
	}
	if grouped {
		groups, err := b.groupBy(sel.GroupBy, items, sc)
		if err != nil {
			return nil, err
		}
		aggNode := &planner.Aggregate{}
		cols := make([]planner.Column, 0, len(groups)+len(agg.calls)+2)
		for i, g := range groups {
			cols = append(cols, planner.Column{Name: g.String(), Type: g.Type()})
			if c, ok := g.(*planner.ColRef); ok && b.win != nil && b.win.kind == tumblingOrSliding && c.Index == b.win.end {
				aggNode.Windowed, aggNode.WindowEnd = true, i
			} else if ok && b.win == nil && !aggNode.Windowed && windowEndColumn(input, c.Index) {
				aggNode.Windowed, aggNode.WindowEnd = true, i // a window TVF's window_end (bind_tvf.go)
			}
		}
		if b.win != nil && b.win.kind == sessionWindow {
			aggNode.Session = &planner.SessionWindow{Time: b.win.time, Gap: b.win.gap}
			cols = append(cols, planner.Column{Name: "session_start", Type: exec.Timestamp}, planner.Column{Name: "session_end", Type: exec.Timestamp})
			b.sessionCols = 2
		}
		for _, c := range agg.calls {
			t, err := exec.AggResultType(c.Kind, argTypeOf(c))
			if err != nil {
				return nil, b.errAt(sel.Pos, CodeUndefinedFunction, err)
			}
			cols = append(cols, planner.Column{Name: c.String(), Type: t})
		}
		aggNode.Input, aggNode.Groups, aggNode.Aggs, aggNode.Cols = input, groups, agg.calls, cols
		input = aggNode
		post := func(e planner.Expr) (planner.Expr, error) { return b.afterAggregate(e, groups) }
		for i := range items {
			if items[i].expr, err = post(items[i].expr); err != nil {
				return nil, err
			}
		}
		if having != nil {
			if having, err = post(having); err != nil {
				return nil, err
			}
			input = &planner.Filter{Input: input, Pred: having}
		}
		for i := range order {
			if order[i].expr != nil {
				if order[i].expr, err = post(order[i].expr); err != nil {
					return nil, err
				}
			}
		}
	}
	_ = fmt.Sprint
	// Projection: the items, then hidden ORDER BY expressions not in the select list.
	exprs := make([]planner.Expr, len(items))
	cols := make([]planner.Column, len(items))
	explodeAt := -1
	for i, it := range items {
		exprs[i] = it.expr
		cols[i] = planner.Column{Name: it.name, Type: it.expr.Type()}
		if it.explode {
			if explodeAt >= 0 {
				return nil, b.errorf(it.pos, CodeFeatureNotSupported, "only one explode() is allowed per select list")
			}
			explodeAt = i
		}
	}
	visible := len(exprs)
	for i := range order {
		if order[i].output >= 0 {
			continue
		}
		for j := 0; j < visible; j++ {
			if !items[j].explode && exprs[j].String() == order[i].expr.String() {
				order[i].output = j
			}
		}
		if order[i].output < 0 {
			if sel.Distinct {
				return nil, b.errorf(b.keywordBefore(order[i].pos, "order"), CodeInvalidColumnRef, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
			order[i].output = len(exprs)
			exprs = append(exprs, order[i].expr)
			cols = append(cols, planner.Column{Name: order[i].expr.String(), Type: order[i].expr.Type()})
		}
	}
	var n planner.Node = &planner.Project{Input: input, Exprs: exprs, Cols: cols}
	if explodeAt >= 0 {
		lt, ok := exprs[explodeAt].Type().(*arrow.ListType)
		if !ok {
			return nil, b.errorf(items[explodeAt].pos, CodeDatatypeMismatch, "explode needs an array argument such as split(s, ' '), not %s", exec.TypeName(exprs[explodeAt].Type()))
		}
		ecols := append([]planner.Column{}, cols...)
		ecols[explodeAt] = planner.Column{Name: cols[explodeAt].Name, Type: lt.Elem()}
		n = &planner.Explode{Input: n, Col: explodeAt, Cols: ecols}
	}
	if sel.Distinct {
		n = distinct(n)
	}
	if len(order) > 0 {
		keys := make([]planner.SortKey, len(order))
		outCols := n.Columns()
		for i, o := range order {
			keys[i] = planner.SortKey{Expr: &planner.ColRef{Index: o.output, Name: outCols[o.output].Name, Typ: outCols[o.output].Type}, Desc: o.desc, NullsFirst: o.nulls}
		}
		n = &planner.Sort{Input: n, Keys: keys}
	}
	if n, err = b.limit(n, sel.Tail); err != nil {
		return nil, err
	}
	if len(n.Columns()) > visible {
		n = keepColumns(n, visible)
	}
	return n, nil
}

func argTypeOf(c planner.AggCall) arrow.DataType {
	if c.Arg == nil {
		return nil
	}
	return c.Arg.Type()
}

func outputIndex(items []selectItem, name string) int {
	found := -1
	for i, it := range items {
		if strings.EqualFold(it.name, name) {
			if found >= 0 {
				return -1 // ambiguous: let the expression binder report it
			}
			found = i
		}
	}
	return found
}

// keepColumns projects away hidden columns past the first n.
func keepColumns(n planner.Node, keep int) planner.Node {
	cols := n.Columns()[:keep]
	exprs := make([]planner.Expr, keep)
	for i, c := range cols {
		exprs[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
	}
	return &planner.Project{Input: n, Exprs: exprs, Cols: cols}
}

func distinct(n planner.Node) planner.Node {
	cols := n.Columns()
	groups := make([]planner.Expr, len(cols))
	for i, c := range cols {
		groups[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
	}
	return &planner.Aggregate{Input: n, Groups: groups, Cols: cols}
}

// distinctOnKey binds a DISTINCT ON key: an output position, an output name, or an expression
// over the input.
func (b *binder) distinctOnKey(e Expr, items []selectItem, sc *scope) (planner.Expr, error) {
	if n, ok := ordinal(e); ok {
		if n < 1 || n > len(items) {
			return nil, b.errorf(e.Position(), CodeInvalidColumnRef, "DISTINCT ON position %d is not in select list", n)
		}
		return items[n-1].expr, nil
	}
	if c, ok := e.(*ColName); ok && c.Table == "" {
		if _, err := sc.resolve("", c.Name); err != nil && outputIndex(items, c.Name) >= 0 {
			return items[outputIndex(items, c.Name)].expr, nil
		}
	}
	return b.expr(e, sc, nil)
}

// nullsFirst applies PostgreSQL's default: NULLs sort as if larger than every value.
func nullsFirst(o OrderItem) bool {
	switch o.Nulls {
	case "first":
		return true
	case "last":
		return false
	}
	return o.Desc
}

func (b *binder) limit(n planner.Node, t Tail) (planner.Node, error) {
	if t.Limit == nil && t.Offset == nil {
		return n, nil
	}
	count, offset := int64(-1), int64(0)
	var err error
	if t.Limit != nil {
		if count, err = b.constInt(t.Limit, "LIMIT", t.LimitPos); err != nil {
			return nil, err
		}
	}
	if t.Offset != nil {
		if offset, err = b.constInt(t.Offset, "OFFSET", t.OffsetPos); err != nil {
			return nil, err
		}
	}
	if count < 0 && offset == 0 {
		return n, nil
	}
	return &planner.Limit{Input: n, Count: count, Offset: offset}, nil
}

func (b *binder) selectItems(list []SelectItem, sc *scope, agg *aggContext) ([]selectItem, error) {
	var items []selectItem
	for _, x := range list {
		if x.Star {
			table := x.StarTable
			if table != "" && !sc.hasTable(table) {
				return nil, b.errorf(x.Pos, CodeUndefinedTable, "missing FROM-clause entry for table %q", table)
			}
			for i, c := range sc.cols {
				if table == "" || c.table == table {
					items = append(items, selectItem{expr: &planner.ColRef{Index: i, Name: c.name, Typ: c.typ}, name: c.name, pos: x.Pos})
				}
			}
			continue
		}
		if f, ok := isWindowCall(x.Expr); ok {
			wi, err := b.windowItems(b.win, f, x.Alias)
			if err != nil {
				return nil, err
			}
			items = append(items, wi...)
			continue
		}
		it := selectItem{name: x.Alias, pos: x.Expr.Position()}
		if f, ok := x.Expr.(*FuncCall); ok && f.Name == "explode" && f.Schema == "" && f.Over == nil {
			if len(f.Args) != 1 || f.Star {
				return nil, b.errorf(f.Pos, CodeUndefinedFunction, "explode takes exactly one argument")
			}
			e, err := b.expr(f.Args[0], sc, agg)
			if err != nil {
				return nil, err
			}
			it.expr, it.explode = e, true
			if it.name == "" {
				it.name = "col"
			}
		} else {
			e, err := b.expr(x.Expr, sc, agg)
			if err != nil {
				return nil, err
			}
			it.expr = e
		}
		if it.name == "" {
			it.name = outputName(x.Expr)
		}
		items = append(items, it)
	}
	return items, nil
}

// outputName names an unaliased select item like PostgreSQL: the column or function name, or
// ?column?.
func outputName(e Expr) string {
	switch x := e.(type) {
	case *ColName:
		return x.Name
	case *FuncCall:
		switch x.Name {
		case "btrim", "ltrim", "rtrim":
			if x.SQLSyntax {
				return "btrim"
			}
		case "now":
			if x.SQLSyntax {
				return "current_timestamp"
			}
		}
		return x.Name
	case *Cast:
		if _, isCol := x.X.(*ColName); isCol {
			return outputName(x.X)
		}
		if t, err := typeOf(x.Type); err == nil {
			if x.Literal {
				return strings.ToLower(strings.SplitN(exec.TypeName(t), "(", 2)[0])
			}
			return strings.ToLower(strings.SplitN(exec.TypeName(t), "(", 2)[0])
		}
		return strings.ToLower(x.Type.Name)
	case *Case:
		return "case"
	case *SubqueryExpr:
		if x.Kind == SubExists {
			return "exists"
		}
		if x.Kind == SubScalar {
			if s, ok := x.Query.body.(*Select); ok && len(s.Items) == 1 && !s.Items[0].Star {
				if s.Items[0].Alias != "" {
					return s.Items[0].Alias
				}
				return outputName(s.Items[0].Expr)
			}
		}
	case *Array:
		return "array"
	}
	return "?column?"
}

// groupBy binds GROUP BY items: an ordinal or an output alias refers to the select item; anything
// else is an expression over the input.
func (b *binder) groupBy(gb []Expr, items []selectItem, sc *scope) ([]planner.Expr, error) {
	var groups []planner.Expr
	for _, g := range gb {
		if _, ok := isWindowCall(g); ok {
			if b.win.kind == tumblingOrSliding {
				groups = append(groups,
					&planner.ColRef{Index: b.win.start, Name: "window_start", Typ: exec.Timestamp},
					&planner.ColRef{Index: b.win.end, Name: "window_end", Typ: exec.Timestamp})
			}
			continue
		}
		var e planner.Expr
		if n, ok := ordinal(g); ok {
			if n < 1 || n > len(items) {
				return nil, b.errorf(g.Position(), CodeInvalidColumnRef, "GROUP BY position %d is not in select list", n)
			}
			e = items[n-1].expr
			if containsAggRef(e) {
				return nil, b.errorf(g.Position(), CodeGrouping, "aggregate functions are not allowed in GROUP BY")
			}
		} else if c, ok := g.(*ColName); ok && c.Table == "" {
			if _, err := sc.resolve("", c.Name); err != nil && outputIndex(items, c.Name) >= 0 {
				e = items[outputIndex(items, c.Name)].expr
				if containsAggRef(e) {
					return nil, b.errorf(c.Pos, CodeGrouping, "aggregate functions are not allowed in GROUP BY")
				}
			}
		}
		if e == nil {
			var err error
			if e, err = b.expr(g, sc, nil); err != nil {
				return nil, err
			}
		}
		groups = append(groups, e)
	}
	return groups, nil
}

func containsAggRef(e planner.Expr) bool {
	found := false
	planner.Walk(e, func(x planner.Expr) {
		if _, ok := x.(*aggRef); ok {
			found = true
		}
	})
	return found
}

// afterAggregate rewrites an expression bound over the aggregate's input into one over its output:
// a sub-expression equal to group key i becomes column i, aggregate call k becomes column
// len(groups)+k, and any other input column is an error (it is neither grouped nor aggregated).
func (b *binder) afterAggregate(e planner.Expr, groups []planner.Expr) (planner.Expr, error) {
	for i, g := range groups {
		if sameExpr(g, e) && !containsAggRef(e) {
			if _, isConst := e.(*planner.Const); !isConst {
				return &planner.ColRef{Index: i, Name: g.String(), Typ: g.Type()}, nil
			}
		}
	}
	switch x := e.(type) {
	case *aggRef:
		return &planner.ColRef{Index: len(groups) + b.sessionCols + x.idx, Name: x.str, Typ: x.typ}, nil
	case *sessionRef:
		return &planner.ColRef{Index: len(groups) + x.which, Name: x.String(), Typ: exec.Timestamp}, nil
	case *planner.ColRef:
		return nil, b.errorf(b.colPos(x), CodeGrouping, "column %q must appear in the GROUP BY clause or be used in an aggregate function", x.Name)
	case *planner.Const:
		return x, nil
	case *planner.Subquery:
		if len(x.Outer) == 0 {
			return x, nil
		}
		// a correlated subquery reads outer columns: they must be grouped, like any other
		// reference above the aggregate
		s := *x
		s.Outer = make([]planner.Expr, len(x.Outer))
		for i, o := range x.Outer {
			var err error
			if s.Outer[i], err = b.afterAggregate(o, groups); err != nil {
				return nil, err
			}
		}
		if x.X != nil {
			var err error
			if s.X, err = b.afterAggregate(x.X, groups); err != nil {
				return nil, err
			}
		}
		return &s, nil
	}
	var err error
	out := rebuild(e, func(child planner.Expr) planner.Expr {
		if err != nil {
			return child
		}
		var r planner.Expr
		r, err = b.afterAggregate(child, groups)
		return r
	})
	return out, err
}

// rebuild returns e with each direct child replaced by f(child).
func rebuild(e planner.Expr, f func(planner.Expr) planner.Expr) planner.Expr {
	switch x := e.(type) {
	case *planner.Func:
		args := make([]planner.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = f(a)
		}
		return &planner.Func{Name: x.Name, Args: args, Bound: x.Bound}
	case *planner.Cast:
		return &planner.Cast{X: f(x.X), To: x.To}
	case *planner.Case:
		c := &planner.Case{Typ: x.Typ}
		if x.Operand != nil {
			c.Operand = f(x.Operand)
		}
		if x.Else != nil {
			c.Else = f(x.Else)
		}
		for i := range x.Whens {
			c.Whens = append(c.Whens, f(x.Whens[i]))
			c.Thens = append(c.Thens, f(x.Thens[i]))
		}
		return c
	case *planner.InList:
		l := &planner.InList{X: f(x.X), Not: x.Not}
		for _, a := range x.List {
			l.List = append(l.List, f(a))
		}
		return l
	}
	return e
}

// sameExpr reports whether two bound expressions compute the same value: column references by
// input index (t.a and a are the same column), everything else by its rendering and type.
func sameExpr(a, b planner.Expr) bool {
	if ca, ok := a.(*planner.ColRef); ok {
		cb, ok := b.(*planner.ColRef)
		return ok && ca.Index == cb.Index
	}
	return a.String() == b.String() && arrow.TypeEqual(a.Type(), b.Type())
}

// hasAggregate reports whether the select list, HAVING or ORDER BY call an aggregate function
// (not counting aggregates inside subqueries or window functions).
func hasAggregate(sel *Select) bool {
	found := false
	visit := func(e Expr) bool {
		if f, ok := e.(*FuncCall); ok {
			if _, isAgg := aggKinds[f.Name]; isAgg && f.Schema == "" && f.Over == nil {
				found = true
			}
		}
		return true
	}
	for _, it := range sel.Items {
		WalkExpr(it.Expr, visit)
	}
	WalkExpr(sel.Having, visit)
	for _, o := range sel.OrderBy {
		WalkExpr(o.Expr, visit)
	}
	return found
}

func (b *binder) setOp(u *SetOp, outer *scope) (planner.Node, error) {
	word := strings.ToUpper(u.Op)
	left, err := b.query(u.L, outer)
	if err != nil {
		return nil, err
	}
	right, err := b.query(u.R, outer)
	if err != nil {
		return nil, err
	}
	lc, rc := left.Columns(), right.Columns()
	if len(lc) != len(rc) {
		return nil, b.errorf(u.Pos, CodeSyntax, "each %s query must have the same number of columns (%d and %d)", word, len(lc), len(rc))
	}
	types := make([]arrow.DataType, len(lc))
	for i := range lc {
		t, ok := exec.CommonType(lc[i].Type, rc[i].Type)
		if !ok {
			return nil, b.errorf(u.Pos, CodeDatatypeMismatch, "%s types %s and %s cannot be matched (column %d)", word, exec.TypeName(lc[i].Type), exec.TypeName(rc[i].Type), i+1)
		}
		if t.ID() == arrow.NULL {
			t = exec.String
		}
		types[i] = t
	}
	if left, err = castColumns(b, left, types); err != nil {
		return nil, err
	}
	if right, err = castColumns(b, right, types); err != nil {
		return nil, err
	}
	cols := make([]planner.Column, len(lc))
	for i := range lc {
		cols[i] = planner.Column{Name: lc[i].Name, Type: types[i]}
	}
	var n planner.Node
	switch u.Op {
	case "union":
		if lu, ok := left.(*planner.Union); ok && u.All {
			// a UNION ALL b UNION ALL c is one union of every branch, not a nest of two-input
			// unions: long generated chains stay linear to plan and run.
			n = &planner.Union{Inputs: append(lu.Inputs, right), Cols: cols} // lu was bound just now: its inputs are ours
			break
		}
		n = &planner.Union{Inputs: []planner.Node{left, right}, Cols: cols}
		if !u.All {
			n = distinct(n)
		}
	default:
		if !u.All {
			if n, err = b.intersectExcept(u.Op, left, right, cols); err != nil {
				return nil, err
			}
			break
		}
		// INTERSECT ALL / EXCEPT ALL are multiset operations: a row present m times on the left
		// and n times on the right is kept min(m, n) / max(m-n, 0) times. Numbering the copies of
		// each distinct row on each side (1..m, 1..n) makes them the set operations over
		// (row, copy number): the pairs on both sides are copies 1..min(m, n), those only on the
		// left copies n+1..m.
		ncols := append(append([]planner.Column{}, cols...), planner.Column{Name: "\x00copy", Type: exec.Int64})
		number := func(in planner.Node) planner.Node {
			part := make([]int, len(cols))
			for i := range part {
				part[i] = i
			}
			wcols := append(append([]planner.Column{}, in.Columns()...), ncols[len(cols)])
			return &planner.Window{Input: in, Partition: part, Funcs: []exec.WindowFunc{{Name: "row_number", Arg: -1, Def: -1, Type: exec.Int64}}, Cols: wcols}
		}
		if n, err = b.intersectExcept(u.Op, number(left), number(right), ncols); err != nil {
			return nil, err
		}
		n = keepColumns(n, len(cols))
	}
	return b.orderAndLimit(n, u.Tail, word)
}

// intersectExcept builds INTERSECT / EXCEPT (without ALL) from existing nodes: both inputs,
// each tagged with its side (0 left, 1 right), are grouped by every column (so NULLs match NULLs,
// as set operations require); INTERSECT keeps the groups seen on both sides (min(side) = 0 and
// max(side) = 1), EXCEPT those seen only on the left (max(side) = 0).
func (b *binder) intersectExcept(op string, left, right planner.Node, cols []planner.Column) (planner.Node, error) {
	tag := func(n planner.Node, side int64) planner.Node {
		exprs, tcols := passThroughColumns(n)
		exprs = append(exprs, &planner.Const{Value: side, Typ: exec.Int64})
		tcols = append(tcols, planner.Column{Name: "side", Type: exec.Int64})
		return &planner.Project{Input: n, Exprs: exprs, Cols: tcols}
	}
	ucols := append(append([]planner.Column{}, cols...), planner.Column{Name: "side", Type: exec.Int64})
	u := &planner.Union{Inputs: []planner.Node{tag(left, 0), tag(right, 1)}, Cols: ucols}
	side := &planner.ColRef{Index: len(cols), Name: "side", Typ: exec.Int64}
	groups := make([]planner.Expr, len(cols))
	for i, c := range cols {
		groups[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
	}
	acols := append(append([]planner.Column{}, cols...), planner.Column{Name: "min(side)", Type: exec.Int64}, planner.Column{Name: "max(side)", Type: exec.Int64})
	agg := &planner.Aggregate{Input: u, Groups: groups, Aggs: []planner.AggCall{{Kind: exec.AggMin, Arg: side}, {Kind: exec.AggMax, Arg: side}}, Cols: acols}
	minSide := &planner.ColRef{Index: len(cols), Name: "min(side)", Typ: exec.Int64}
	maxSide := &planner.ColRef{Index: len(cols) + 1, Name: "max(side)", Typ: exec.Int64}
	var pred planner.Expr
	var err error
	if op == "intersect" {
		pred, err = b.call("<>", []planner.Expr{minSide, maxSide})
	} else {
		pred, err = b.call("=", []planner.Expr{maxSide, &planner.Const{Value: int64(0), Typ: exec.Int64}})
	}
	if err != nil {
		return nil, err
	}
	return keepColumns(&planner.Filter{Input: agg, Pred: pred}, len(cols)), nil
}

// orderAndLimit applies ORDER BY (output names and positions only) and LIMIT to a set operation
// or VALUES.
func (b *binder) orderAndLimit(n planner.Node, t Tail, word string) (planner.Node, error) {
	cols := n.Columns()
	if len(t.OrderBy) > 0 {
		var keys []planner.SortKey
		for _, o := range t.OrderBy {
			idx := -1
			if k, ok := ordinal(o.Expr); ok {
				idx = k - 1
			} else if c, ok := o.Expr.(*ColName); ok && c.Table == "" {
				for i, col := range cols {
					if strings.EqualFold(col.Name, c.Name) {
						idx = i
						break
					}
				}
			}
			if idx < 0 || idx >= len(cols) {
				return nil, b.errorf(o.Pos, CodeInvalidColumnRef, "ORDER BY on a %s must name an output column or position: %s", word, ExprString(o.Expr))
			}
			keys = append(keys, planner.SortKey{Expr: &planner.ColRef{Index: idx, Name: cols[idx].Name, Typ: cols[idx].Type}, Desc: o.Desc, NullsFirst: nullsFirst(o)})
		}
		n = &planner.Sort{Input: n, Keys: keys}
	}
	return b.limit(n, t)
}

// values binds VALUES (...), (...) used as a query: constant rows with columns column1, ...
func (b *binder) values(v *Values, outer *scope) (planner.Node, error) {
	width := len(v.Rows[0])
	bound := make([][]planner.Expr, len(v.Rows))
	types := make([]arrow.DataType, width)
	for i := range types {
		types[i] = exec.Null
	}
	for r, row := range v.Rows {
		if len(row) != width {
			return nil, b.errorf(row[0].Position(), CodeSyntax, "VALUES lists must all be the same length")
		}
		bound[r] = make([]planner.Expr, width)
		for i, e := range row {
			x, err := b.expr(e, &scope{outer: outer}, nil)
			if err != nil {
				return nil, err
			}
			t, ok := exec.CommonType(types[i], x.Type())
			if !ok {
				return nil, b.errorf(e.Position(), CodeDatatypeMismatch, "VALUES types %s and %s cannot be matched (column %d)", exec.TypeName(types[i]), exec.TypeName(x.Type()), i+1)
			}
			types[i] = t
			bound[r][i] = x
		}
	}
	cols := make([]planner.Column, width)
	for i := range cols {
		if types[i].ID() == arrow.NULL {
			types[i] = exec.String
		}
		cols[i] = planner.Column{Name: fmt.Sprintf("column%d", i+1), Type: types[i]}
	}
	rows := make([][]exec.Datum, len(bound))
	for r, row := range bound {
		rows[r] = make([]exec.Datum, width)
		for i, x := range row {
			cx, err := b.cast(x, types[i])
			if err != nil {
				return nil, b.errAt(v.Rows[r][i].Position(), CodeInvalidText, err)
			}
			c, err := evalConst(cx)
			if err != nil {
				return nil, b.errAt(v.Rows[r][i].Position(), CodeInvalidParameter, err)
			}
			rows[r][i] = c.(*planner.Const).Value
		}
	}
	return b.orderAndLimit(&planner.Values{Rows: rows, Cols: cols}, v.Tail, "VALUES")
}

// castColumns projects n so its columns have the given types.
func castColumns(b *binder, n planner.Node, types []arrow.DataType) (planner.Node, error) {
	cols := n.Columns()
	same := true
	exprs := make([]planner.Expr, len(cols))
	out := make([]planner.Column, len(cols))
	for i, c := range cols {
		var e planner.Expr = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
		if !arrow.TypeEqual(c.Type, types[i]) {
			same = false
			var err error
			if e, err = b.cast(e, types[i]); err != nil {
				return nil, err
			}
		}
		exprs[i] = e
		out[i] = planner.Column{Name: c.Name, Table: c.Table, Type: types[i]}
	}
	if same {
		return n, nil
	}
	return &planner.Project{Input: n, Exprs: exprs, Cols: out}, nil
}
