package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/xwb1989/sqlparser"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// selectItem is one output column before projection.
type selectItem struct {
	expr    planner.Expr
	name    string
	explode bool
}

func (b *binder) selectQuery(sel *sqlparser.Select, outer *scope) (planner.Node, error) {
	input, err := b.from(sel.From, outer)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(input)
	sc.outer = outer
	if sel.Where != nil {
		pred, err := b.expr(sel.Where.Expr, sc, nil)
		if err != nil {
			return nil, err
		}
		if err := requireBool(pred, "WHERE"); err != nil {
			return nil, b.errAt("where", err)
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
	items, err := b.selectItems(sel.SelectExprs, sc, agg)
	if err != nil {
		return nil, err
	}
	var having planner.Expr
	if sel.Having != nil {
		if !grouped {
			agg = &aggContext{}
		}
		if having, err = b.expr(sel.Having.Expr, sc, agg); err != nil {
			return nil, err
		}
		if err := requireBool(having, "HAVING"); err != nil {
			return nil, b.errAt("having", err)
		}
		grouped = true
	}
	// ORDER BY items: an output ordinal, an output name, or an expression over the input.
	type orderItem struct {
		output int // >= 0: refers to items[output]
		expr   planner.Expr
		desc   bool
	}
	var order []orderItem
	for _, o := range sel.OrderBy {
		it := orderItem{output: -1, desc: o.Direction == sqlparser.DescScr}
		if n, ok := ordinal(o.Expr); ok {
			if n < 1 || n > len(items) {
				return nil, b.errorf(fmt.Sprint(n), "ORDER BY position %d is not in select list", n)
			}
			it.output = n - 1
		} else if c, ok := o.Expr.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() && outputIndex(items, c.Name.String()) >= 0 {
			it.output = outputIndex(items, c.Name.String())
		} else {
			e, err := b.expr(o.Expr, sc, agg)
			if err != nil {
				return nil, err
			}
			it.expr = e
		}
		order = append(order, it)
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
			}
		}
		if b.win != nil && b.win.kind == sessionWindow {
			aggNode.Session = &planner.SessionWindow{Time: b.win.time, Gap: b.win.gap}
			cols = append(cols, planner.Column{Name: "session_start", Type: exec.Timestamp}, planner.Column{Name: "session_end", Type: exec.Timestamp})
			b.sessionCols = 2
		}
		for i, c := range agg.calls {
			t, err := exec.AggResultType(c.Kind, argTypeOf(c))
			if err != nil {
				return nil, err
			}
			cols = append(cols, planner.Column{Name: agg.keys[i], Type: t})
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
	// Projection: the items, then hidden ORDER BY expressions not in the select list.
	exprs := make([]planner.Expr, len(items))
	cols := make([]planner.Column, len(items))
	explodeAt := -1
	for i, it := range items {
		exprs[i] = it.expr
		cols[i] = planner.Column{Name: it.name, Type: it.expr.Type()}
		if it.explode {
			if explodeAt >= 0 {
				return nil, b.errorf("explode", "only one explode() is allowed per select list")
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
			if sel.Distinct != "" {
				return nil, b.errorf("order", "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
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
			return nil, b.errorf("explode", "explode needs an array argument such as split(s, ' '), not %s", exec.TypeName(exprs[explodeAt].Type()))
		}
		ecols := append([]planner.Column{}, cols...)
		ecols[explodeAt] = planner.Column{Name: cols[explodeAt].Name, Type: lt.Elem()}
		n = &planner.Explode{Input: n, Col: explodeAt, Cols: ecols}
	}
	if sel.Distinct != "" {
		n = distinct(n)
	}
	if len(order) > 0 {
		keys := make([]planner.SortKey, len(order))
		outCols := n.Columns()
		for i, o := range order {
			keys[i] = planner.SortKey{Expr: &planner.ColRef{Index: o.output, Name: outCols[o.output].Name, Typ: outCols[o.output].Type}, Desc: o.desc, NullsFirst: o.desc}
		}
		n = &planner.Sort{Input: n, Keys: keys}
	}
	if n, err = b.limit(n, sel.Limit); err != nil {
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

func (b *binder) limit(n planner.Node, l *sqlparser.Limit) (planner.Node, error) {
	if l == nil {
		return n, nil
	}
	count, offset := int64(-1), int64(0)
	var err error
	if l.Rowcount != nil {
		if count, err = b.constInt(l.Rowcount, "LIMIT"); err != nil {
			return nil, err
		}
	}
	if l.Offset != nil {
		if offset, err = b.constInt(l.Offset, "OFFSET"); err != nil {
			return nil, err
		}
	}
	return &planner.Limit{Input: n, Count: count, Offset: offset}, nil
}

func (b *binder) selectItems(exprs sqlparser.SelectExprs, sc *scope, agg *aggContext) ([]selectItem, error) {
	var items []selectItem
	for _, se := range exprs {
		switch x := se.(type) {
		case *sqlparser.StarExpr:
			table := x.TableName.Name.String()
			if table != "" && !sc.hasTable(table) {
				return nil, b.errorf(table, "missing FROM-clause entry for table %q", table)
			}
			for i, c := range sc.cols {
				if table == "" || c.table == table {
					items = append(items, selectItem{expr: &planner.ColRef{Index: i, Name: c.name, Typ: c.typ}, name: c.name})
				}
			}
		case *sqlparser.AliasedExpr:
			if f, ok := isWindowCall(x.Expr); ok {
				wi, err := b.windowItems(b.win, f, x.As.String())
				if err != nil {
					return nil, err
				}
				items = append(items, wi...)
				continue
			}
			it := selectItem{name: x.As.String()}
			if f, ok := x.Expr.(*sqlparser.FuncExpr); ok && strings.EqualFold(f.Name.String(), "explode") {
				if len(f.Exprs) != 1 {
					return nil, b.errorf("explode", "explode takes exactly one argument")
				}
				ae, ok := f.Exprs[0].(*sqlparser.AliasedExpr)
				if !ok {
					return nil, b.errorf("explode", "explode(*) is not valid")
				}
				e, err := b.expr(ae.Expr, sc, agg)
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
		default:
			return nil, fmt.Errorf("unsupported select item %s", sqlparser.String(se))
		}
	}
	return items, nil
}

// outputName names an unaliased select item like PostgreSQL: the column or function name, or
// ?column?.
func outputName(e sqlparser.Expr) string {
	switch x := e.(type) {
	case *sqlparser.ColName:
		return x.Name.String()
	case *sqlparser.FuncExpr:
		n := strings.ToLower(x.Name.String())
		switch n {
		case "__cast":
			if len(x.Exprs) > 0 {
				if ae, ok := x.Exprs[0].(*sqlparser.AliasedExpr); ok {
					if _, isCol := ae.Expr.(*sqlparser.ColName); isCol {
						return outputName(ae.Expr)
					}
				}
				if ae, ok := x.Exprs[1].(*sqlparser.AliasedExpr); ok {
					if v, ok := ae.Expr.(*sqlparser.SQLVal); ok {
						t, _, _ := strings.Cut(strings.ToLower(string(v.Val)), "(")
						return t
					}
				}
			}
		case "__substring":
			return "substring"
		case "__timestamp":
			return "timestamp"
		case "__date":
			return "date"
		case "__interval":
			return "interval"
		}
		return n
	case *sqlparser.ParenExpr:
		return outputName(x.Expr)
	case *sqlparser.CaseExpr:
		return "case"
	case *sqlparser.SubstrExpr:
		return "substring"
	case *sqlparser.ConvertExpr:
		return outputName(x.Expr)
	}
	return "?column?"
}

// groupBy binds GROUP BY items: an ordinal or an output alias refers to the select item; anything
// else is an expression over the input.
func (b *binder) groupBy(gb sqlparser.GroupBy, items []selectItem, sc *scope) ([]planner.Expr, error) {
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
				return nil, b.errorf(fmt.Sprint(n), "GROUP BY position %d is not in select list", n)
			}
			e = items[n-1].expr
			if containsAggRef(e) {
				return nil, b.errorf(fmt.Sprint(n), "aggregate functions are not allowed in GROUP BY")
			}
		} else if c, ok := g.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() {
			if _, err := sc.resolve("", c.Name.String()); err != nil && outputIndex(items, c.Name.String()) >= 0 {
				e = items[outputIndex(items, c.Name.String())].expr
				if containsAggRef(e) {
					return nil, b.errorf(c.Name.String(), "aggregate functions are not allowed in GROUP BY")
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
		if g.String() == e.String() && !containsAggRef(e) {
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
		return nil, b.errorf(lastName(x.Name), "column %q must appear in the GROUP BY clause or be used in an aggregate function", x.Name)
	case *planner.Const:
		return x, nil
	case *planner.Subquery:
		return x, nil
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

func lastName(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
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

// hasAggregate reports whether the select list, HAVING or ORDER BY call an aggregate function
// (not counting aggregates inside subqueries).
func hasAggregate(sel *sqlparser.Select) bool {
	found := false
	visit := func(node sqlparser.SQLNode) (bool, error) {
		switch x := node.(type) {
		case *sqlparser.Subquery:
			return false, nil
		case *sqlparser.FuncExpr:
			if _, ok := aggKinds[strings.ToLower(x.Name.String())]; ok && x.Qualifier.IsEmpty() {
				found = true
			}
		}
		return true, nil
	}
	_ = sqlparser.Walk(visit, sel.SelectExprs)
	if sel.Having != nil {
		_ = sqlparser.Walk(visit, sel.Having)
	}
	_ = sqlparser.Walk(visit, sel.OrderBy)
	return found
}

func (b *binder) union(u *sqlparser.Union, outer *scope) (planner.Node, error) {
	left, err := b.selectStatement(u.Left, outer)
	if err != nil {
		return nil, err
	}
	right, err := b.selectStatement(u.Right, outer)
	if err != nil {
		return nil, err
	}
	lc, rc := left.Columns(), right.Columns()
	if len(lc) != len(rc) {
		return nil, b.errorf("union", "each UNION query must have the same number of columns (%d and %d)", len(lc), len(rc))
	}
	types := make([]arrow.DataType, len(lc))
	for i := range lc {
		t, ok := exec.CommonType(lc[i].Type, rc[i].Type)
		if !ok {
			return nil, b.errorf("union", "UNION types %s and %s cannot be matched (column %d)", exec.TypeName(lc[i].Type), exec.TypeName(rc[i].Type), i+1)
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
	var n planner.Node = &planner.Union{Inputs: []planner.Node{left, right}, Cols: cols}
	switch strings.ToLower(u.Type) {
	case sqlparser.UnionAllStr:
	case sqlparser.UnionStr, sqlparser.UnionDistinctStr:
		n = distinct(n)
	default:
		return nil, b.errorf("union", "%s is not supported", strings.ToUpper(u.Type))
	}
	if len(u.OrderBy) > 0 {
		var keys []planner.SortKey
		for _, o := range u.OrderBy {
			idx := -1
			if k, ok := ordinal(o.Expr); ok {
				idx = k - 1
			} else if c, ok := o.Expr.(*sqlparser.ColName); ok {
				for i, col := range cols {
					if strings.EqualFold(col.Name, c.Name.String()) {
						idx = i
						break
					}
				}
			}
			if idx < 0 || idx >= len(cols) {
				return nil, b.errorf("order", "ORDER BY on a UNION must name an output column or position: %s", sqlparser.String(o.Expr))
			}
			desc := o.Direction == sqlparser.DescScr
			keys = append(keys, planner.SortKey{Expr: &planner.ColRef{Index: idx, Name: cols[idx].Name, Typ: cols[idx].Type}, Desc: desc, NullsFirst: desc})
		}
		n = &planner.Sort{Input: n, Keys: keys}
	}
	return b.limit(n, u.Limit)
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
