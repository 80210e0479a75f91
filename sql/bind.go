package sql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/xwb1989/sqlparser"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// binder turns one statement's parsed query into a logical plan. See doc.go for the pass order:
// FROM (tables, subqueries, CTEs, joins) -> WHERE -> GROUP BY/aggregates/HAVING -> select list
// (with explode) -> DISTINCT -> ORDER BY -> LIMIT/OFFSET; UNION ALL combines bound queries.
type binder struct {
	cat  Catalog
	src  string
	toks []Token
	ctes []map[string]planner.Node // innermost last
	win  *windowInfo               // the time window of the query level being bound
	// sessionCols is 2 while binding above a session aggregate (session_start, session_end sit
	// between the groups and the aggregates), else 0.
	sessionCols int
}

// BindQuery binds a parsed query into an optimized logical plan.
func BindQuery(cat Catalog, q *Query) (planner.Node, error) {
	b := &binder{cat: cat, src: q.src, toks: q.toks}
	n, err := b.query(q, nil)
	if err != nil {
		return nil, err
	}
	return planner.Optimize(n)
}

// errAt attaches a position to err: the first occurrence of word in the statement (the binder
// works on the library's AST, which has no positions).
func (b *binder) errAt(word string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	pos := -1
	for _, t := range b.toks {
		// fix: numbers too, so "ORDER BY position 3 is not in select list" gets a caret.
		if ((t.Kind == TokIdent || t.Kind == TokNumber) && strings.EqualFold(t.Text, word)) || (t.Kind == TokQIdent && strings.EqualFold(t.Val, word)) {
			pos = t.Pos
			break
		}
	}
	return &Error{Msg: err.Error(), Source: b.src, Pos: pos}
}

func (b *binder) errorf(word string, format string, args ...any) error {
	return b.errAt(word, fmt.Errorf(format, args...))
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
				return nil, b.errAt(cte.Name, err)
			}
			env[strings.ToLower(cte.Name)] = n
		}
	}
	return b.selectStatement(q.body, outer)
}

func (b *binder) selectStatement(s sqlparser.SelectStatement, outer *scope) (planner.Node, error) {
	switch x := s.(type) {
	case *sqlparser.Select:
		return b.selectQuery(x, outer)
	case *sqlparser.ParenSelect:
		return b.selectStatement(x.Select, outer)
	case *sqlparser.Union:
		return b.union(x, outer)
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
func (b *binder) from(exprs sqlparser.TableExprs, outer *scope) (planner.Node, error) {
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

func (b *binder) tableExpr(te sqlparser.TableExpr, outer *scope) (planner.Node, error) {
	switch x := te.(type) {
	case *sqlparser.AliasedTableExpr:
		alias := x.As.String()
		switch e := x.Expr.(type) {
		case sqlparser.TableName:
			name := e.Name.String()
			if !e.Qualifier.IsEmpty() {
				return nil, b.errorf(name, "schema-qualified table names are not supported: %s.%s", e.Qualifier.String(), name)
			}
			if strings.EqualFold(name, "dual") {
				return &planner.Values{Rows: [][]exec.Datum{{}}}, nil
			}
			return b.table(name, alias)
		case *sqlparser.Subquery:
			n, err := b.selectStatement(e.Select, outer)
			if err != nil {
				return nil, err
			}
			if alias == "" {
				alias = "subquery"
			}
			return renameColumns(n, alias, nil)
		}
	case *sqlparser.ParenTableExpr:
		return b.from(x.Exprs, outer)
	case *sqlparser.JoinTableExpr:
		return b.join(x, outer)
	}
	return nil, fmt.Errorf("unsupported FROM item %s", sqlparser.String(te))
}

func (b *binder) table(name, alias string) (planner.Node, error) {
	qual := name
	if alias != "" {
		qual = alias
	}
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if n, ok := b.ctes[i][strings.ToLower(name)]; ok {
			return renameColumns(n, qual, nil)
		}
	}
	src, ok := b.cat.LookupTable(name)
	if !ok {
		msg := fmt.Sprintf("table %q does not exist", name)
		if best := closest(name, b.cat.TableNames()); best != "" {
			msg += fmt.Sprintf("; did you mean %q?", best)
		}
		return nil, b.errAt(name, fmt.Errorf("%s", msg))
	}
	schema := src.Schema()
	cols := make([]planner.Column, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = planner.Column{Name: f.Name, Table: qual, Type: f.Type}
	}
	return &planner.Scan{Table: name, Alias: alias, Source: src, Cols: cols}, nil
}

func (b *binder) join(j *sqlparser.JoinTableExpr, outer *scope) (planner.Node, error) {
	left, err := b.tableExpr(j.LeftExpr, outer)
	if err != nil {
		return nil, err
	}
	right, err := b.tableExpr(j.RightExpr, outer)
	if err != nil {
		return nil, err
	}
	var kind planner.JoinKind
	switch j.Join {
	case sqlparser.JoinStr, sqlparser.StraightJoinStr:
		kind = planner.InnerJoin
		if j.Condition.On == nil && len(j.Condition.Using) == 0 {
			kind = planner.CrossJoin
		}
	case sqlparser.LeftJoinStr:
		kind = planner.LeftJoin
	case sqlparser.RightJoinStr:
		kind = planner.RightJoin
	default:
		return nil, b.errorf("natural", "%s is not supported; use JOIN ... ON", strings.ToUpper(j.Join))
	}
	if (kind == planner.LeftJoin || kind == planner.RightJoin) && j.Condition.On == nil && len(j.Condition.Using) == 0 {
		return nil, b.errorf("join", "%s JOIN needs an ON or USING condition", strings.ToUpper(kind.String()))
	}
	n := &planner.Join{Kind: kind, Left: left, Right: right}
	sc := scopeOf(n)
	sc.outer = outer
	if j.Condition.On != nil {
		cond, err := b.expr(j.Condition.On, sc, nil)
		if err != nil {
			return nil, err
		}
		if err := requireBool(cond, "JOIN/ON"); err != nil {
			return nil, b.errAt("on", err)
		}
		n.Cond = cond
	}
	if len(j.Condition.Using) > 0 {
		nl := len(left.Columns())
		ls, rs := scopeOf(left), scopeOf(right)
		var conds []planner.Expr
		for _, c := range j.Condition.Using {
			name := c.String()
			li, err := ls.resolve("", name)
			if err != nil {
				return nil, b.errAt(name, err)
			}
			ri, err := rs.resolve("", name)
			if err != nil {
				return nil, b.errAt(name, err)
			}
			eq, err := b.call("=", []planner.Expr{
				&planner.ColRef{Index: li, Name: name, Typ: ls.cols[li].typ},
				&planner.ColRef{Index: nl + ri, Name: name, Typ: rs.cols[ri].typ},
			})
			if err != nil {
				return nil, b.errAt(name, err)
			}
			conds = append(conds, eq)
		}
		cond, err := planner.And(conds)
		if err != nil {
			return nil, err
		}
		n.Cond = cond
	}
	return n, nil
}

func requireBool(e planner.Expr, clause string) error {
	switch e.Type().ID() {
	case arrow.BOOL, arrow.NULL:
		return nil
	}
	return fmt.Errorf("argument of %s must be type BOOLEAN, not type %s: %s", clause, exec.TypeName(e.Type()), e)
}

// constInt evaluates a LIMIT/OFFSET value.
func (b *binder) constInt(e sqlparser.Expr, what string) (int64, error) {
	// fix: a column here is not "unknown" (binding against the empty scope said it does not
	// exist); say that the clause takes a constant, like PostgreSQL.
	hasColumn := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if _, ok := n.(*sqlparser.ColName); ok {
			hasColumn = true
		}
		return true, nil
	}, e)
	if hasColumn {
		return 0, b.errorf(strings.ToLower(what), "%s must be an integer constant and must not contain column references: %s", what, sqlparser.String(e))
	}
	v, err := b.expr(e, &scope{}, nil)
	if err != nil {
		return 0, err
	}
	c, ok := v.(*planner.Const)
	if !ok || c.Typ.ID() != arrow.INT64 {
		return 0, b.errorf(strings.ToLower(what), "%s must be an integer constant, not %s", what, sqlparser.String(e))
	}
	if c.Value == nil {
		if what == "LIMIT" {
			return -1, nil // LIMIT NULL means no limit, as in PostgreSQL
		}
		return 0, nil // OFFSET NULL skips nothing
	}
	n := c.Value.(int64)
	if n < 0 {
		return 0, b.errorf(strings.ToLower(what), "%s must not be negative", what)
	}
	return n, nil
}

// ordinal returns the 1-based position if e is an integer literal.
func ordinal(e sqlparser.Expr) (int, bool) {
	v, ok := e.(*sqlparser.SQLVal)
	if !ok || v.Type != sqlparser.IntVal {
		return 0, false
	}
	n, err := strconv.Atoi(string(v.Val))
	return n, err == nil
}
