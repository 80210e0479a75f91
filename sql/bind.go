package sql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// binder turns one statement's parsed query into a logical plan. See doc.go for the pass order:
// FROM (tables, subqueries, CTEs, joins) -> WHERE -> GROUP BY/aggregates/HAVING -> select list
// (with explode) -> DISTINCT -> ORDER BY -> LIMIT/OFFSET; UNION ALL combines bound queries.
type binder struct {
	cat  Catalog
	src  string
	ctes []map[string]planner.Node // innermost last
	win  *windowInfo               // the time window of the query level being bound
	// depth counts nested expressions being bound (a bound on recursion); colPositions remembers
	// where each bound column reference was written.
	depth        int
	colPositions map[*planner.ColRef]int
	// wctx collects the window function calls of the select list and ORDER BY being bound;
	// nil where window functions are not allowed.
	wctx *windowCtx
	// sessionCols is 2 while binding above a session aggregate (session_start, session_end sit
	// between the groups and the aggregates), else 0.
	sessionCols int
	// params types the $n of a statement being prepared (bind_param.go); nil: $n is an error.
	params *Params
	// scalarSubst holds the value of each decorrelated scalar subquery (bind_decorrelate_scalar.go).
	scalarSubst map[*SubqueryExpr]planner.Expr
	// corr, while a subquery is bound, collects its references to the enclosing query (nil: not
	// a subquery, or correlation refused). noCorrelate makes the subqueries bound next refuse
	// outer references, so WHERE can try decorrelating them into joins first.
	corr        *correlation
	noCorrelate bool
	// viewDepth counts the views being expanded around this binder (bind_view.go).
	viewDepth int
}

// correlation collects a correlated subquery's references to the enclosing query: refs are
// bound in the enclosing query (by bind) and the subquery reads the i-th as OuterRef{Index: i}.
type correlation struct {
	bind func(*ColName) (planner.Expr, error)
	refs []planner.Expr
	keys map[string]int
}

// ref returns the OuterRef for the enclosing query's column x, adding it to refs once.
func (c *correlation) ref(x *ColName) (planner.Expr, error) {
	key := qualified(x.Table, x.Name)
	if i, ok := c.keys[key]; ok {
		return &planner.OuterRef{Index: i, Name: key, Typ: c.refs[i].Type()}, nil
	}
	e, err := c.bind(x)
	if err != nil {
		return nil, err
	}
	if c.keys == nil {
		c.keys = map[string]int{}
	}
	c.keys[key] = len(c.refs)
	c.refs = append(c.refs, e)
	return &planner.OuterRef{Index: len(c.refs) - 1, Name: key, Typ: e.Type()}, nil
}

// BindQuery binds a parsed query into an optimized logical plan.
func BindQuery(cat Catalog, q *Query) (planner.Node, error) {
	b := &binder{cat: cat, src: q.src}
	n, err := b.query(q, nil)
	if err != nil {
		return nil, err
	}
	return planner.Optimize(n)
}

// errAt attaches position pos and SQLSTATE code to err, unless err is already positioned.
func (b *binder) errAt(pos int, code string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Msg: err.Error(), Source: b.src, Pos: pos, Code: codeOf(err, code)}
}

func (b *binder) errorf(pos int, code string, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Source: b.src, Pos: pos, Code: code}
}

func (b *binder) query(q *Query, outer *scope) (planner.Node, error) {
	if len(q.With) > 0 {
		env := map[string]planner.Node{}
		b.ctes = append(b.ctes, env)
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
		for _, cte := range q.With {
			n, err := b.query(cte.Body, outer)
			if err != nil {
				return nil, err
			}
			if n, err = renameColumns(n, cte.Name, cte.Columns); err != nil {
				return nil, b.errAt(cte.Pos, CodeInvalidColumnRef, err)
			}
			env[strings.ToLower(cte.Name)] = n
		}
	}
	return b.selectStatement(q.body, outer)
}

func (b *binder) selectStatement(s QueryBody, outer *scope) (planner.Node, error) {
	switch x := s.(type) {
	case *Select:
		return b.selectQuery(x, outer)
	case *SetOp:
		return b.setOp(x, outer)
	case *Values:
		return b.values(x, outer)
	}
	return nil, fmt.Errorf("unsupported query form %T", s)
}

// renameColumns gives a derived table's columns the qualifier alias and, optionally, new names.
func renameColumns(n planner.Node, alias string, names []string) (planner.Node, error) {
	cols := n.Columns()
	if len(names) > len(cols) {
		return nil, fmt.Errorf("%s has %d columns available but %d columns specified", alias, len(cols), len(names))
	}
	exprs := make([]planner.Expr, len(cols))
	out := make([]planner.Column, len(cols))
	for i, c := range cols {
		exprs[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
		name := c.Name
		if i < len(names) {
			name = names[i]
		}
		out[i] = planner.Column{Name: name, Table: alias, Type: c.Type}
	}
	return &planner.Project{Input: n, Exprs: exprs, Cols: out}, nil
}

// from binds the FROM clause; no FROM (or FROM dual) is a single empty row.
func (b *binder) from(exprs []TableExpr, outer *scope) (planner.Node, error) {
	if len(exprs) == 0 {
		return &planner.Values{Rows: [][]exec.Datum{{}}}, nil
	}
	var n planner.Node
	for _, te := range exprs {
		t, err := b.tableExpr(te, outer)
		if err != nil {
			return nil, err
		}
		if n == nil {
			n = t
		} else {
			n = &planner.Join{Kind: planner.CrossJoin, Left: n, Right: t}
		}
	}
	return n, nil
}

func (b *binder) tableExpr(te TableExpr, outer *scope) (planner.Node, error) {
	switch x := te.(type) {
	case *TableName:
		if x.Schema != "" {
			n, err := b.qualifiedTable(x)
			if err != nil || len(x.ColAliases) == 0 {
				return n, err
			}
			return b.renameAt(n, qualifierOf(x.Name, x.Alias), x.ColAliases, x.Pos)
		}
		if strings.EqualFold(x.Name, "dual") && x.Alias == "" {
			return &planner.Values{Rows: [][]exec.Datum{{}}}, nil
		}
		n, err := b.table(x.Name, x.Alias, x.Pos)
		if err != nil || len(x.ColAliases) == 0 {
			return n, err
		}
		return b.renameAt(n, qualifierOf(x.Name, x.Alias), x.ColAliases, x.Pos)
	case *DerivedTable:
		if x.Lateral {
			return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "LATERAL is not supported")
		}
		n, err := b.query(x.Query, outer)
		if err != nil {
			return nil, err
		}
		alias := x.Alias
		if alias == "" {
			alias = "subquery"
		}
		return b.renameAt(n, alias, x.ColAliases, x.Pos)
	case *FuncTable:
		return b.funcTable(x)
	case *Join:
		return b.join(x, outer)
	}
	return nil, fmt.Errorf("unsupported FROM item %T", te)
}

func qualifierOf(name, alias string) string {
	if alias != "" {
		return alias
	}
	return name
}

func (b *binder) renameAt(n planner.Node, alias string, names []string, pos int) (planner.Node, error) {
	out, err := renameColumns(n, alias, names)
	return out, b.errAt(pos, CodeInvalidColumnRef, err)
}

func (b *binder) table(name, alias string, pos int) (planner.Node, error) {
	qual := qualifierOf(name, alias)
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if n, ok := b.ctes[i][strings.ToLower(name)]; ok {
			return renameColumns(n, qual, nil)
		}
	}
	if vc, ok := b.cat.(ViewCatalog); ok {
		if v, ok := vc.LookupView(name); ok {
			return b.view(v, qual, pos)
		}
	}
	src, ok := b.cat.LookupTable(name)
	if !ok {
		msg := fmt.Sprintf("table %q does not exist", name)
		if best := closest(name, b.cat.TableNames()); best != "" {
			msg += fmt.Sprintf("; did you mean %q?", best)
		}
		return nil, b.errorf(pos, CodeUndefinedTable, "%s", msg)
	}
	schema := src.Schema()
	cols := make([]planner.Column, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = planner.Column{Name: f.Name, Table: qual, Type: f.Type}
	}
	return &planner.Scan{Table: name, Alias: alias, Source: src, Cols: cols}, nil
}

func (b *binder) join(j *Join, outer *scope) (planner.Node, error) {
	left, err := b.tableExpr(j.L, outer)
	if err != nil {
		return nil, err
	}
	right, err := b.tableExpr(j.R, outer)
	if err != nil {
		return nil, err
	}
	if j.Natural {
		return nil, b.errorf(j.Pos, CodeFeatureNotSupported, "NATURAL JOIN is not supported; use JOIN ... USING (columns)")
	}
	var kind planner.JoinKind
	switch j.Kind {
	case JoinInner:
		kind = planner.InnerJoin
	case JoinCross:
		kind = planner.CrossJoin
	case JoinLeft:
		kind = planner.LeftJoin
	case JoinRight:
		kind = planner.RightJoin
	case JoinFull:
		return b.fullJoin(j, left, right, outer)
	}
	n := &planner.Join{Kind: kind, Left: left, Right: right}
	if err := b.joinCondition(j, n, outer); err != nil {
		return nil, err
	}
	return n, nil
}

// fullJoin builds L FULL JOIN R ON c as L LEFT JOIN R ON c, plus the right rows no left row
// matched: L' RIGHT JOIN R ON c where L' is L with a marker column, keeping the rows whose marker
// is NULL. Over streams the same plan runs with retractions: an unmatched row's padded row is
// retracted when its first match arrives (update and complete mode).
func (b *binder) fullJoin(j *Join, left, right planner.Node, outer *scope) (planner.Node, error) {
	if j.On == nil && len(j.Using) == 0 {
		return nil, b.errorf(j.Pos, CodeSyntax, "FULL JOIN needs an ON or USING condition")
	}
	lj := &planner.Join{Kind: planner.LeftJoin, Left: left, Right: right}
	if err := b.joinCondition(j, lj, outer); err != nil {
		return nil, err
	}
	exprs, mcols := passThroughColumns(left)
	exprs = append(exprs, &planner.Const{Value: true, Typ: exec.Bool})
	mcols = append(mcols, planner.Column{Name: "\x00matched", Type: exec.Bool}) // no user name resolves to it
	marked := &planner.Project{Input: left, Exprs: exprs, Cols: mcols}
	rj := &planner.Join{Kind: planner.RightJoin, Left: marked, Right: right}
	if err := b.joinCondition(j, rj, outer); err != nil {
		return nil, err
	}
	nl := len(left.Columns())
	unmatched, err := b.call("is_null", []planner.Expr{&planner.ColRef{Index: nl, Name: "matched", Typ: exec.Bool}})
	if err != nil {
		return nil, err
	}
	rjCols := rj.Columns()
	keep := make([]planner.Expr, 0, len(rjCols)-1)
	kcols := make([]planner.Column, 0, len(rjCols)-1)
	for i, c := range rjCols {
		if i != nl {
			keep = append(keep, &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type})
			kcols = append(kcols, c)
		}
	}
	rightOnly := &planner.Project{Input: &planner.Filter{Input: rj, Pred: unmatched}, Exprs: keep, Cols: kcols}
	return &planner.Union{Inputs: []planner.Node{lj, rightOnly}, Cols: lj.Columns()}, nil
}

// joinCondition binds the ON or USING condition of j into n.
func (b *binder) joinCondition(j *Join, n *planner.Join, outer *scope) error {
	left, right := n.Left, n.Right
	sc := scopeOf(n)
	sc.outer = outer
	if j.On != nil {
		cond, err := b.expr(j.On, sc, nil)
		if err != nil {
			return err
		}
		if err := requireBool(cond, "JOIN/ON"); err != nil {
			return b.errAt(b.keywordAfter(j.Pos, "on"), CodeDatatypeMismatch, err)
		}
		n.Cond = cond
	}
	if len(j.Using) > 0 {
		nl := len(left.Columns())
		ls, rs := scopeOf(left), scopeOf(right)
		var conds []planner.Expr
		usingPos := b.keywordAfter(j.Pos, "using")
		for _, name := range j.Using {
			pos := b.wordAfter(usingPos, name)
			li, err := ls.resolve("", name)
			if err != nil {
				return b.errAt(pos, resolveCode(err), err)
			}
			ri, err := rs.resolve("", name)
			if err != nil {
				return b.errAt(pos, resolveCode(err), err)
			}
			eq, err := b.call("=", []planner.Expr{
				&planner.ColRef{Index: li, Name: name, Typ: ls.cols[li].typ},
				&planner.ColRef{Index: nl + ri, Name: name, Typ: rs.cols[ri].typ},
			})
			if err != nil {
				return b.errAt(pos, CodeUndefinedFunction, err)
			}
			conds = append(conds, eq)
		}
		cond, err := planner.And(conds)
		if err != nil {
			return err
		}
		n.Cond = cond
	}
	return nil
}

// keywordAfter finds word at or after pos in the statement (clause keywords have no node).
func (b *binder) keywordAfter(pos int, word string) int {
	return b.wordAfter(pos, word)
}

func (b *binder) wordAfter(pos int, word string) int {
	if pos < 0 || pos > len(b.src) {
		return pos
	}
	for _, t := range Lex(b.src[pos:]) {
		if (t.Kind == TokIdent && strings.EqualFold(t.Text, word)) || (t.Kind == TokQIdent && t.Val == word) {
			return pos + t.Pos
		}
	}
	return pos
}

func requireBool(e planner.Expr, clause string) error {
	switch e.Type().ID() {
	case arrow.BOOL, arrow.NULL:
		return nil
	}
	return fmt.Errorf("argument of %s must be type BOOLEAN, not type %s: %s", clause, exec.TypeName(e.Type()), e)
}

// constInt evaluates a LIMIT/OFFSET value.
func (b *binder) constInt(e Expr, what string, pos int) (int64, error) {
	hasColumn := false
	WalkExpr(e, func(x Expr) bool {
		if _, ok := x.(*ColName); ok {
			hasColumn = true
		}
		return true
	})
	if hasColumn {
		return 0, b.errorf(pos, CodeInvalidColumnRef, "%s must be an integer constant and must not contain column references: %s", what, ExprString(e))
	}
	if p, ok := e.(*Param); ok && b.params != nil {
		b.params.ensure(p.N)
		if b.params.Types[p.N-1] == nil || b.params.Types[p.N-1].ID() == arrow.STRING {
			b.params.Types[p.N-1] = exec.Int64
		}
		return 1, nil
	}
	v, err := b.expr(e, &scope{}, nil)
	if err != nil {
		return 0, err
	}
	c, ok := v.(*planner.Const)
	if ok && c.Value != nil && c.Typ.ID() == arrow.DECIMAL128 {
		// LIMIT 2.0 and LIMIT 1.5 (rounded, as PostgreSQL does) are integers too.
		if cv, err := b.cast(c, exec.Int64); err == nil {
			c, _ = cv.(*planner.Const)
		}
	}
	if c == nil || (c.Typ.ID() != arrow.INT64 && c.Typ.ID() != arrow.NULL) {
		return 0, b.errorf(pos, CodeDatatypeMismatch, "%s must be an integer constant, not %s", what, ExprString(e))
	}
	if c.Value == nil {
		if what == "LIMIT" {
			return -1, nil // LIMIT NULL means no limit, as in PostgreSQL
		}
		return 0, nil // OFFSET NULL skips nothing
	}
	n := c.Value.(int64)
	if n < 0 {
		code := CodeInvalidRowCount
		if what == "OFFSET" {
			code = CodeInvalidOffsetCount
		}
		return 0, b.errorf(pos, code, "%s must not be negative", what)
	}
	return n, nil
}

// ordinal returns the 1-based position if e is an integer literal.
func ordinal(e Expr) (int, bool) {
	v, ok := e.(*Literal)
	if !ok || v.Kind != LitInt {
		return 0, false
	}
	n, err := strconv.Atoi(v.Val)
	return n, err == nil
}

// keywordBefore finds the last occurrence of word at or before pos (clause keywords have no node).
func (b *binder) keywordBefore(pos int, word string) int {
	if pos < 0 || pos > len(b.src) {
		return pos
	}
	best := -1
	for _, t := range Lex(b.src[:pos]) {
		if t.Is(word) {
			best = t.Pos
		}
	}
	if best < 0 {
		return pos
	}
	return best
}

// maxSeriesRows bounds generate_series, whose rows are materialized when the query is bound.
const maxSeriesRows = 10_000_000

// funcTable binds a function call in FROM: generate_series(start, stop[, step]) over BIGINT,
// or over TIMESTAMP with an INTERVAL step, with constant arguments.
func (b *binder) funcTable(f *FuncTable) (planner.Node, error) {
	if n, ok, err := b.windowTVF(f); ok {
		return n, err
	}
	c := f.Call
	if c.Name == "state" && c.Schema == "" {
		return b.stateTable(f)
	}
	if c.Name != "generate_series" || c.Schema != "" && c.Schema != "pg_catalog" {
		return b.scalarFuncTable(f)
	}
	if len(c.Args) < 2 || len(c.Args) > 3 || c.Star || c.Distinct || c.Filter != nil || c.Over != nil {
		return nil, b.errorf(c.Pos, CodeUndefinedFunction, "usage: generate_series(start, stop[, step])")
	}
	vals := make([]*planner.Const, len(c.Args))
	for i, a := range c.Args {
		e, err := b.expr(a, &scope{}, nil)
		if err != nil {
			return nil, err
		}
		k, ok := e.(*planner.Const)
		if !ok {
			return b.computedSeries(f)
		}
		vals[i] = k
	}
	for _, v := range vals {
		if v.Value == nil {
			return b.seriesNode(f, nil, vals[0].Typ)
		}
	}
	var typ arrow.DataType
	var start, stop, step int64
	switch {
	case vals[0].Typ.ID() == arrow.INT64 && vals[1].Typ.ID() == arrow.INT64 && (len(vals) == 2 || vals[2].Typ.ID() == arrow.INT64):
		typ, start, stop, step = exec.Int64, vals[0].Value.(int64), vals[1].Value.(int64), 1
		if len(vals) == 3 {
			step = vals[2].Value.(int64)
		}
	case len(vals) == 3 && vals[2].Typ.ID() == arrow.DURATION:
		ts := make([]int64, 2)
		for i := range ts {
			t, err := b.cast(vals[i], exec.Timestamp)
			if err != nil {
				return nil, b.errAt(c.Args[i].Position(), CodeUndefinedFunction, err)
			}
			ts[i] = t.(*planner.Const).Value.(int64)
		}
		typ, start, stop, step = exec.Timestamp, ts[0], ts[1], vals[2].Value.(int64)
	default:
		return nil, b.errorf(c.Pos, CodeUndefinedFunction, "generate_series takes (BIGINT, BIGINT[, BIGINT]) or (TIMESTAMP, TIMESTAMP, INTERVAL)")
	}
	if step == 0 {
		return nil, b.errorf(c.Pos, CodeInvalidParameter, "step size cannot equal zero")
	}
	var rows [][]exec.Datum
	for v := start; (step > 0 && v <= stop) || (step < 0 && v >= stop); v += step {
		if len(rows) >= maxSeriesRows {
			return nil, b.errorf(c.Pos, "54000", "generate_series would produce more than %d rows", maxSeriesRows)
		}
		rows = append(rows, []exec.Datum{v})
		if (step > 0 && v > stop-step) || (step < 0 && v < stop-step) {
			break // the next value would pass stop (or overflow)
		}
	}
	return b.seriesNode(f, rows, typ)
}

func (b *binder) seriesNode(f *FuncTable, rows [][]exec.Datum, typ arrow.DataType) (planner.Node, error) {
	if typ.ID() == arrow.NULL {
		typ = exec.Int64
	}
	name, alias := "generate_series", "generate_series"
	if f.Alias != "" {
		name, alias = f.Alias, f.Alias
	}
	if len(f.ColAliases) > 1 {
		return nil, b.errorf(f.Pos, CodeInvalidColumnRef, "generate_series has 1 column but %d column names were given", len(f.ColAliases))
	}
	if len(f.ColAliases) == 1 {
		name = f.ColAliases[0]
	}
	if rows == nil {
		rows = [][]exec.Datum{}
	}
	return &planner.Values{Rows: rows, Cols: []planner.Column{{Name: name, Table: alias, Type: typ}}}, nil
}
