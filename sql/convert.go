package sql

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// This file is the only code that imports the PostgreSQL parser. It runs the token pre-step,
// PostgreSQL's grammar (libpg_query) and turns the library's tree into our AST (ast.go), mapping
// every location back to the text the user typed. Forms our engine has no meaning for are
// refused here with SQLSTATE 0A000 and a caret at the construct.

// maxTreeDepth bounds the converted tree; the pre-step's limits keep the C parser's tree within it.
const maxTreeDepth = 2000

type converter struct {
	src   string     // the whole statement, positions refer to it
	rw    *rewritten // the pre-step's output for the part being parsed
	depth int
	toks  []Token // src lexed once, for the position searches (see tokens)
}

// tokens is the statement's tokens, lexed once: the position searches below must not lex the
// rest of the statement again for every node, which is quadratic on long generated statements.
func (c *converter) tokens() []Token {
	if c.toks == nil {
		c.toks = Lex(c.src)
	}
	return c.toks
}

// tokenAt is the index of the first token that starts at or after pos.
func (c *converter) tokenAt(pos int) int {
	toks := c.tokens()
	return sort.Search(len(toks), func(i int) bool { return toks[i].Pos >= pos })
}

// parsePG parses src[from:to] with PostgreSQL's grammar: one statement.
func parsePG(src string, from, to int) (*pg.Node, *converter, error) {
	rw, err := preStep(src, from, to)
	if err != nil {
		return nil, nil, err
	}
	c := &converter{src: src, rw: rw}
	tree, err := pg.Parse(rw.text)
	if err != nil {
		return nil, nil, c.parseError(err)
	}
	if len(tree.Stmts) != 1 {
		if len(tree.Stmts) == 0 {
			return nil, nil, syntaxErrorf(src, from, "empty statement")
		}
		return nil, nil, syntaxErrorf(src, c.pos(tree.Stmts[1].StmtLocation), "only one statement is allowed here")
	}
	return tree.Stmts[0].Stmt, c, nil
}

// parseError turns the library's error (a message and a 1-based character cursor into the
// rewritten text) into a positioned *Error in our wording.
func (c *converter) parseError(err error) error {
	var pe *pgparser.Error
	if !errors.As(err, &pe) {
		return &Error{Msg: err.Error(), Pos: -1, Kind: "syntax error", Code: CodeSyntax}
	}
	pos := -1
	if pe.Cursorpos > 0 {
		// Cursorpos counts characters; our positions are bytes.
		n, b := pe.Cursorpos-1, 0
		for n > 0 && b < len(c.rw.text) {
			_, size := utf8.DecodeRuneInString(c.rw.text[b:])
			b += size
			n--
		}
		pos = c.rw.orig(b)
	}
	msg := pe.Message
	switch {
	case strings.HasPrefix(msg, "memory exhausted"), strings.Contains(msg, "stack depth limit exceeded"):
		return &Error{Msg: "statement is nested too deeply for the parser", Source: c.src, Pos: pos, Code: CodeTooComplex}
	case strings.HasPrefix(msg, "syntax error at end of input"):
		end := len(strings.TrimRight(c.src, " \t\r\n;"))
		return syntaxErrorf(c.src, end, "unexpected end of statement")
	case strings.HasPrefix(msg, "syntax error at or near"):
		near := strings.TrimPrefix(msg, "syntax error at or near ")
		if pos >= 0 && pos <= len(c.src) {
			if toks := Lex(c.src[pos:]); toks[0].Kind != TokEOF {
				near = strconv.Quote(toks[0].Text)
			}
		}
		return syntaxErrorf(c.src, pos, "unexpected %s", near)
	}
	return &Error{Msg: msg, Source: c.src, Pos: pos, Kind: "syntax error", Code: CodeSyntax}
}

// pos maps a location of the library's tree (a byte offset of the rewritten text, -1 unknown).
func (c *converter) pos(loc int32) int {
	if loc < 0 {
		return -1
	}
	return c.rw.orig(int(loc))
}

func (c *converter) unsupported(loc int32, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Source: c.src, Pos: c.pos(loc), Code: CodeFeatureNotSupported}
}

func (c *converter) enter(loc int32) error {
	c.depth++
	if c.depth > maxTreeDepth {
		return &Error{Msg: fmt.Sprintf("expression is nested too deeply (more than %d levels)", maxTreeDepth), Source: c.src, Pos: c.pos(loc), Code: CodeTooComplex}
	}
	return nil
}

func (c *converter) leave() { c.depth-- }

// nodeLocation is the location of a node, for errors about node kinds we do not convert.
func nodeLocation(n *pg.Node) int32 {
	type located interface{ GetLocation() int32 }
	if n == nil {
		return -1
	}
	v := n.GetNode()
	if v == nil {
		return -1
	}
	// Every oneof wrapper has one field holding the message; reflect through the known ones.
	switch x := v.(type) {
	case *pg.Node_ColumnRef:
		return x.ColumnRef.Location
	case *pg.Node_AConst:
		return x.AConst.Location
	case *pg.Node_FuncCall:
		return x.FuncCall.Location
	case *pg.Node_AExpr:
		return x.AExpr.Location
	case *pg.Node_TypeCast:
		return x.TypeCast.Location
	case *pg.Node_SubLink:
		return x.SubLink.Location
	case *pg.Node_RowExpr:
		return x.RowExpr.Location
	case *pg.Node_CollateClause:
		return x.CollateClause.Location
	case *pg.Node_XmlExpr:
		return x.XmlExpr.Location
	case *pg.Node_RangeVar:
		return x.RangeVar.Location
	case *pg.Node_GroupingSet:
		return x.GroupingSet.Location
	case *pg.Node_ParamRef:
		return x.ParamRef.Location
	}
	return -1
}

func strVal(n *pg.Node) string {
	if s := n.GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

func names(ns []*pg.Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, strVal(n))
	}
	return out
}

// ---- statements ----

// query converts a SELECT statement (plain, set operation or VALUES) with its WITH clause.
func (c *converter) query(n *pg.Node) (*Query, error) {
	s := n.GetSelectStmt()
	if s == nil {
		return nil, syntaxErrorf(c.src, c.pos(nodeLocation(n)), "expected a query")
	}
	return c.selectStmt(s)
}

func (c *converter) selectStmt(s *pg.SelectStmt) (*Query, error) {
	if err := c.enter(-1); err != nil {
		return nil, err
	}
	defer c.leave()
	q := &Query{src: c.src}
	if w := s.WithClause; w != nil {
		if w.Recursive {
			e := c.unsupported(w.Location, "WITH RECURSIVE is not supported").(*Error)
			if e.Pos >= 0 {
				if toks := Lex(c.src[e.Pos:]); len(toks) > 1 {
					e.Pos += toks[1].Pos
				}
			}
			return nil, e
		}
		for _, cn := range w.Ctes {
			cte := cn.GetCommonTableExpr()
			body, err := c.query(cte.Ctequery)
			if err != nil {
				return nil, err
			}
			q.With = append(q.With, CTE{Name: cte.Ctename, Columns: names(cte.Aliascolnames), Body: body, Pos: c.pos(cte.Location)})
		}
	}
	if s.IntoClause != nil {
		return nil, c.unsupported(-1, "SELECT ... INTO is not supported; use CREATE TABLE ... AS or INSERT INTO ... SELECT")
	}
	if len(s.LockingClause) > 0 {
		return nil, c.unsupported(-1, "FOR UPDATE/SHARE is not supported: tables are append-only")
	}
	tail, err := c.tail(s)
	if err != nil {
		return nil, err
	}
	switch s.Op {
	case pg.SetOperation_SETOP_UNION, pg.SetOperation_SETOP_EXCEPT, pg.SetOperation_SETOP_INTERSECT:
		// The parser builds a chain a UNION b UNION c ... left-deep: its left spine adds no
		// nesting depth, so a long generated chain is not refused as deeply nested.
		c.leave()
		l, err := c.selectStmt(s.Larg)
		c.depth++
		if err != nil {
			return nil, err
		}
		r, err := c.selectStmt(s.Rarg)
		if err != nil {
			return nil, err
		}
		op := map[pg.SetOperation]string{pg.SetOperation_SETOP_UNION: "union", pg.SetOperation_SETOP_EXCEPT: "except", pg.SetOperation_SETOP_INTERSECT: "intersect"}[s.Op]
		q.body = &SetOp{Op: op, All: s.All, L: l, R: r, Tail: tail, Pos: c.setOpPos(l, op)}
		return q, nil
	}
	if len(s.ValuesLists) > 0 {
		v := &Values{Tail: tail, Pos: -1}
		for _, row := range s.ValuesLists {
			items := row.GetList().GetItems()
			exprs, err := c.exprs(items)
			if err != nil {
				return nil, err
			}
			v.Rows = append(v.Rows, exprs)
		}
		if len(v.Rows) > 0 && len(v.Rows[0]) > 0 {
			v.Pos = c.keywordBefore(v.Rows[0][0].Position(), "values")
		}
		q.body = v
		return q, nil
	}
	sel := &Select{Tail: tail, Pos: -1, WherePos: -1, HavingPos: -1}
	if len(s.DistinctClause) > 0 {
		// SELECT DISTINCT is a list holding one nil node; DISTINCT ON (...) lists expressions.
		if s.DistinctClause[0].GetNode() != nil {
			if sel.DistinctOn, err = c.exprs(s.DistinctClause); err != nil {
				return nil, err
			}
		} else {
			sel.Distinct = true
		}
	}
	for _, t := range s.TargetList {
		rt := t.GetResTarget()
		item := SelectItem{Alias: rt.Name, Pos: c.pos(rt.Location)}
		if cr := rt.Val.GetColumnRef(); cr != nil && len(cr.Fields) > 0 && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			item.Star = true
			if len(cr.Fields) == 2 {
				item.StarTable = strVal(cr.Fields[0])
			} else if len(cr.Fields) > 2 {
				return nil, c.unsupported(cr.Location, "schema-qualified names are not supported")
			}
		} else {
			if item.Expr, err = c.expr(rt.Val); err != nil {
				return nil, err
			}
		}
		sel.Items = append(sel.Items, item)
	}
	for _, f := range s.FromClause {
		te, err := c.tableExpr(f)
		if err != nil {
			return nil, err
		}
		sel.From = append(sel.From, te)
	}
	if s.WhereClause != nil {
		if sel.Where, err = c.expr(s.WhereClause); err != nil {
			return nil, err
		}
		sel.WherePos = c.keywordBefore(sel.Where.Position(), "where")
	}
	if s.GroupDistinct {
		return nil, c.unsupported(-1, "GROUP BY DISTINCT is not supported")
	}
	for _, g := range s.GroupClause {
		if gs := g.GetGroupingSet(); gs != nil {
			return nil, c.unsupported(gs.Location, "GROUPING SETS, ROLLUP and CUBE are not supported")
		}
		e, err := c.expr(g)
		if err != nil {
			return nil, err
		}
		sel.GroupBy = append(sel.GroupBy, e)
	}
	if s.HavingClause != nil {
		if sel.Having, err = c.expr(s.HavingClause); err != nil {
			return nil, err
		}
		sel.HavingPos = c.keywordBefore(sel.Having.Position(), "having")
	}
	if len(s.WindowClause) > 0 {
		wd := s.WindowClause[0].GetWindowDef()
		return nil, c.unsupported(wd.GetLocation(), "the WINDOW clause is not supported; write the window in OVER (...)")
	}
	if len(sel.Items) > 0 {
		sel.Pos = c.keywordBefore(sel.Items[0].Pos, "select")
	}
	q.body = sel
	return q, nil
}

// keywordBefore finds the position of keyword word at or before pos (the grammar records no
// location for clause keywords); pos itself when it is not found.
func (c *converter) keywordBefore(pos int, word string) int {
	if pos < 0 || pos > len(c.src) {
		return pos
	}
	toks := c.tokens()
	for i := c.tokenAt(pos) - 1; i >= 0; i-- {
		if toks[i].Is(word) {
			return toks[i].Pos
		}
	}
	return pos
}

// setOpPos is the position of the set operation's keyword: the first one after the left side.
func (c *converter) setOpPos(l *Query, word string) int {
	start := 0
	if l != nil && l.body != nil && l.body.Position() >= 0 {
		start = l.body.Position()
	}
	toks := c.tokens()
	for i := c.tokenAt(start); i < len(toks); i++ {
		if toks[i].Is(word) {
			return toks[i].Pos
		}
	}
	return start
}

func (c *converter) tail(s *pg.SelectStmt) (Tail, error) {
	var t Tail
	t.LimitPos, t.OffsetPos = -1, -1
	for _, sn := range s.SortClause {
		o, err := c.sortBy(sn.GetSortBy())
		if err != nil {
			return t, err
		}
		t.OrderBy = append(t.OrderBy, o)
	}
	if s.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		return t, c.unsupported(-1, "FETCH ... WITH TIES is not supported")
	}
	var err error
	if s.LimitCount != nil {
		if ac := s.LimitCount.GetAConst(); ac != nil && ac.Isnull {
			// LIMIT ALL (and LIMIT NULL): no limit.
		} else if t.Limit, err = c.expr(s.LimitCount); err != nil {
			return t, err
		} else {
			t.LimitPos = c.keywordBefore(t.Limit.Position(), "limit")
		}
	}
	if s.LimitOffset != nil {
		if t.Offset, err = c.expr(s.LimitOffset); err != nil {
			return t, err
		}
		t.OffsetPos = c.keywordBefore(t.Offset.Position(), "offset")
	}
	return t, nil
}

func (c *converter) sortBy(sb *pg.SortBy) (OrderItem, error) {
	e, err := c.expr(sb.Node)
	if err != nil {
		return OrderItem{}, err
	}
	o := OrderItem{Expr: e, Pos: e.Position()}
	switch sb.SortbyDir {
	case pg.SortByDir_SORTBY_DESC:
		o.Desc = true
	case pg.SortByDir_SORTBY_USING:
		return o, c.unsupported(sb.Location, "ORDER BY ... USING is not supported")
	}
	switch sb.SortbyNulls {
	case pg.SortByNulls_SORTBY_NULLS_FIRST:
		o.Nulls = "first"
	case pg.SortByNulls_SORTBY_NULLS_LAST:
		o.Nulls = "last"
	}
	return o, nil
}

func aliasOf(a *pg.Alias) (string, []string) {
	if a == nil {
		return "", nil
	}
	return a.Aliasname, names(a.Colnames)
}

func (c *converter) tableExpr(n *pg.Node) (TableExpr, error) {
	if err := c.enter(-1); err != nil {
		return nil, err
	}
	defer c.leave()
	switch x := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		rv := x.RangeVar
		alias, cols := aliasOf(rv.Alias)
		t := &TableName{Schema: rv.Schemaname, Name: rv.Relname, Alias: alias, ColAliases: cols, Pos: c.pos(rv.Location)}
		if rv.Catalogname != "" {
			t.Schema = rv.Catalogname + "." + rv.Schemaname
		}
		if t.Schema != "" && t.Pos >= 0 {
			// Point at the table's name, after the qualifier.
			if i := strings.LastIndexByte(c.src[t.Pos:min(len(c.src), t.Pos+len(t.Schema)+len(t.Name)+8)], '.'); i >= 0 {
				t.Pos += i + 1
			}
		}
		return t, nil
	case *pg.Node_RangeSubselect:
		rs := x.RangeSubselect
		q, err := c.query(rs.Subquery)
		if err != nil {
			return nil, err
		}
		alias, cols := aliasOf(rs.Alias)
		pos := -1
		if q.body != nil {
			pos = q.body.Position()
		}
		return &DerivedTable{Query: q, Alias: alias, ColAliases: cols, Lateral: rs.Lateral, Pos: pos}, nil
	case *pg.Node_RangeFunction:
		rf := x.RangeFunction
		if rf.Ordinality || rf.IsRowsfrom || len(rf.Functions) != 1 || len(rf.Coldeflist) > 0 {
			return nil, c.unsupported(-1, "only a single function call is supported in FROM (WITH ORDINALITY and ROWS FROM are not)")
		}
		items := rf.Functions[0].GetList().GetItems()
		if len(items) == 0 {
			return nil, c.unsupported(-1, "unsupported function in FROM")
		}
		e, err := c.expr(items[0])
		if err != nil {
			return nil, err
		}
		call, ok := e.(*FuncCall)
		if !ok {
			return nil, c.unsupported(-1, "only a function call is supported in FROM")
		}
		alias, cols := aliasOf(rf.Alias)
		return &FuncTable{Call: call, Alias: alias, ColAliases: cols, Pos: call.Pos}, nil
	case *pg.Node_JoinExpr:
		j := x.JoinExpr
		l, err := c.tableExpr(j.Larg)
		if err != nil {
			return nil, err
		}
		r, err := c.tableExpr(j.Rarg)
		if err != nil {
			return nil, err
		}
		if j.Alias != nil || j.JoinUsingAlias != nil {
			return nil, c.unsupported(-1, "an alias on a JOIN is not supported; wrap the join in a subquery")
		}
		out := &Join{L: l, R: r, Natural: j.IsNatural, Using: names(j.UsingClause), Pos: -1}
		switch j.Jointype {
		case pg.JoinType_JOIN_INNER:
			out.Kind = JoinInner
			if j.Quals == nil && len(j.UsingClause) == 0 && !j.IsNatural {
				out.Kind = JoinCross
			}
		case pg.JoinType_JOIN_LEFT:
			out.Kind = JoinLeft
		case pg.JoinType_JOIN_RIGHT:
			out.Kind = JoinRight
		case pg.JoinType_JOIN_FULL:
			out.Kind = JoinFull
		default:
			return nil, c.unsupported(-1, "unsupported join type")
		}
		out.Pos = c.joinPos(l, r)
		if j.Quals != nil {
			if out.On, err = c.expr(j.Quals); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, c.unsupported(nodeLocation(n), "unsupported FROM item")
}

// joinPos is the position of the join's first keyword between its two sides.
func (c *converter) joinPos(l, r TableExpr) int {
	from, to := l.Position(), r.Position()
	if from < 0 || to < 0 || to > len(c.src) || from > to {
		return to
	}
	toks := c.tokens()
	for i := c.tokenAt(from); i < len(toks) && toks[i].Pos < to; i++ {
		for _, w := range []string{"natural", "full", "left", "right", "inner", "cross", "join"} {
			if toks[i].Is(w) {
				return toks[i].Pos
			}
		}
	}
	return to
}

// ---- expressions ----

func (c *converter) exprs(ns []*pg.Node) ([]Expr, error) {
	out := make([]Expr, 0, len(ns))
	for _, n := range ns {
		e, err := c.expr(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (c *converter) expr(n *pg.Node) (Expr, error) {
	if err := c.enter(nodeLocation(n)); err != nil {
		return nil, err
	}
	defer c.leave()
	switch x := n.GetNode().(type) {
	case *pg.Node_ColumnRef:
		return c.columnRef(x.ColumnRef)
	case *pg.Node_AConst:
		return c.constant(x.AConst), nil
	case *pg.Node_ParamRef:
		return &Param{N: int(x.ParamRef.Number), Pos: c.pos(x.ParamRef.Location)}, nil
	case *pg.Node_AExpr:
		return c.aExpr(x.AExpr)
	case *pg.Node_BoolExpr:
		b := x.BoolExpr
		args, err := c.exprs(b.Args)
		if err != nil {
			return nil, err
		}
		pos := c.pos(b.Location)
		switch b.Boolop {
		case pg.BoolExprType_NOT_EXPR:
			return &Unary{Op: "not", X: args[0], Pos: pos}, nil
		case pg.BoolExprType_AND_EXPR, pg.BoolExprType_OR_EXPR:
			op := "and"
			if b.Boolop == pg.BoolExprType_OR_EXPR {
				op = "or"
			}
			// PostgreSQL flattens a AND b AND c into one node; ours is binary, built as a
			// balanced tree so long chains stay shallow.
			return balance(op, args, pos), nil
		}
	case *pg.Node_NullTest:
		nt := x.NullTest
		arg, err := c.expr(nt.Arg)
		if err != nil {
			return nil, err
		}
		return &IsTest{X: arg, What: "null", Not: nt.Nulltesttype == pg.NullTestType_IS_NOT_NULL, Pos: c.pos(nt.Location)}, nil
	case *pg.Node_BooleanTest:
		bt := x.BooleanTest
		arg, err := c.expr(bt.Arg)
		if err != nil {
			return nil, err
		}
		what, not := map[pg.BoolTestType]string{
			pg.BoolTestType_IS_TRUE: "true", pg.BoolTestType_IS_NOT_TRUE: "true", pg.BoolTestType_IS_FALSE: "false",
			pg.BoolTestType_IS_NOT_FALSE: "false", pg.BoolTestType_IS_UNKNOWN: "unknown", pg.BoolTestType_IS_NOT_UNKNOWN: "unknown",
		}[bt.Booltesttype], bt.Booltesttype == pg.BoolTestType_IS_NOT_TRUE || bt.Booltesttype == pg.BoolTestType_IS_NOT_FALSE || bt.Booltesttype == pg.BoolTestType_IS_NOT_UNKNOWN
		return &IsTest{X: arg, What: what, Not: not, Pos: c.pos(bt.Location)}, nil
	case *pg.Node_TypeCast:
		tc := x.TypeCast
		arg, err := c.expr(tc.Arg)
		if err != nil {
			return nil, err
		}
		t, err := c.typeRef(tc.TypeName)
		if err != nil {
			return nil, err
		}
		cast := &Cast{X: arg, Type: t, Pos: c.pos(tc.Location)}
		// TIMESTAMP '...' has the cast's location at the type name, before the string.
		if l, ok := arg.(*Literal); ok && l.Kind == LitString && cast.Pos >= 0 && cast.Pos < l.Pos && t.Pos == cast.Pos {
			cast.Literal = true
		}
		if cast.Pos < 0 {
			cast.Pos = arg.Position()
		}
		return cast, nil
	case *pg.Node_FuncCall:
		return c.funcCall(x.FuncCall)
	case *pg.Node_CaseExpr:
		ce := x.CaseExpr
		out := &Case{Pos: c.pos(ce.Location)}
		var err error
		if ce.Arg != nil {
			if out.Operand, err = c.expr(ce.Arg); err != nil {
				return nil, err
			}
		}
		for _, w := range ce.Args {
			cw := w.GetCaseWhen()
			cond, err := c.expr(cw.Expr)
			if err != nil {
				return nil, err
			}
			val, err := c.expr(cw.Result)
			if err != nil {
				return nil, err
			}
			out.Whens = append(out.Whens, When{Cond: cond, Val: val})
		}
		if ce.Defresult != nil {
			if out.Else, err = c.expr(ce.Defresult); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *pg.Node_CoalesceExpr:
		args, err := c.exprs(x.CoalesceExpr.Args)
		if err != nil {
			return nil, err
		}
		return &FuncCall{Name: "coalesce", Args: args, Pos: c.pos(x.CoalesceExpr.Location)}, nil
	case *pg.Node_MinMaxExpr:
		args, err := c.exprs(x.MinMaxExpr.Args)
		if err != nil {
			return nil, err
		}
		name := "greatest"
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_LEAST {
			name = "least"
		}
		return &FuncCall{Name: name, Args: args, Pos: c.pos(x.MinMaxExpr.Location)}, nil
	case *pg.Node_SqlvalueFunction:
		f := x.SqlvalueFunction
		name := map[pg.SQLValueFunctionOp]string{
			pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE: "current_date", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP: "now",
			pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP: "now",
			pg.SQLValueFunctionOp_SVFOP_CURRENT_USER:   "current_user", pg.SQLValueFunctionOp_SVFOP_SESSION_USER: "session_user",
			pg.SQLValueFunctionOp_SVFOP_USER: "user", pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE: "current_role",
			pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA: "current_schema", pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG: "current_catalog",
		}[f.Op]
		if name == "" {
			return nil, c.unsupported(f.Location, "this SQL value function is not supported")
		}
		return &FuncCall{Name: name, Pos: c.pos(f.Location), SQLSyntax: true}, nil
	case *pg.Node_SubLink:
		return c.subLink(x.SubLink)
	case *pg.Node_AArrayExpr:
		elems, err := c.exprs(x.AArrayExpr.Elements)
		if err != nil {
			return nil, err
		}
		return &Array{Elems: elems, Pos: c.pos(x.AArrayExpr.Location)}, nil
	case *pg.Node_RowExpr:
		return nil, c.unsupported(x.RowExpr.Location, "row values (a, b, ...) are only allowed after IN")
	case *pg.Node_CollateClause:
		// Strings compare bytewise (the C collation): COLLATE naming it or the default is a no-op.
		switch coll := strings.Join(names(x.CollateClause.Collname), "."); coll {
		case "default", "pg_catalog.default", "C", "pg_catalog.C", "POSIX", "pg_catalog.POSIX", "ucs_basic":
			return c.expr(x.CollateClause.Arg)
		}
		return nil, c.unsupported(x.CollateClause.Location, "COLLATE is not supported (strings compare bytewise, as COLLATE \"C\")")
	case *pg.Node_AIndirection:
		// x[i] is element_at(x, i) (1-based, NULL out of range); slices and fields are not supported.
		ind := x.AIndirection
		if len(ind.Indirection) == 1 {
			if ai := ind.Indirection[0].GetAIndices(); ai != nil && !ai.IsSlice && ai.Uidx != nil {
				arr, err := c.expr(ind.Arg)
				if err != nil {
					return nil, err
				}
				idx, err := c.expr(ai.Uidx)
				if err != nil {
					return nil, err
				}
				return &FuncCall{Name: "element_at", Args: []Expr{arr, idx}, Pos: arr.Position()}, nil
			}
		}
		return &Unsupported{Msg: "array slices and field selection (x[1:2], (x).f) are not supported", Pos: c.pos(nodeLocation(ind.Arg))}, nil
	case *pg.Node_GroupingFunc:
		return nil, c.unsupported(x.GroupingFunc.Location, "GROUPING() is not supported")
	case *pg.Node_SetToDefault:
		return nil, c.unsupported(x.SetToDefault.Location, "DEFAULT is not supported")
	}
	return nil, c.unsupported(nodeLocation(n), "unsupported expression")
}

// balance builds op over args as a balanced binary tree.
func balance(op string, args []Expr, pos int) Expr {
	if len(args) == 1 {
		return args[0]
	}
	mid := len(args) / 2
	return &Binary{Op: op, L: balance(op, args[:mid], pos), R: balance(op, args[mid:], pos), Pos: pos}
}

func (c *converter) columnRef(cr *pg.ColumnRef) (Expr, error) {
	var parts []string
	for _, f := range cr.Fields {
		if f.GetAStar() != nil {
			return nil, syntaxErrorf(c.src, c.pos(cr.Location), "* is only allowed in the select list and in count(*)")
		}
		parts = append(parts, strVal(f))
	}
	pos := c.pos(cr.Location)
	switch len(parts) {
	case 1:
		return &ColName{Name: parts[0], Pos: pos, TablePos: -1}, nil
	case 2:
		return &ColName{Table: parts[0], Name: parts[1], Pos: c.fieldPos(pos, 1), TablePos: pos}, nil
	}
	return nil, c.unsupported(cr.Location, "schema-qualified column names are not supported: %s", strings.Join(parts, "."))
}

// fieldPos finds the k-th dotted part of a name starting at pos.
func (c *converter) fieldPos(pos, k int) int {
	if pos < 0 || pos >= len(c.src) {
		return pos
	}
	toks, i := c.tokens(), c.tokenAt(pos)
	if i+2*k < len(toks) && toks[i+2*k-1].IsOp(".") {
		return toks[i+2*k].Pos
	}
	return pos
}

func (c *converter) constant(ac *pg.A_Const) Expr {
	pos := c.pos(ac.Location)
	if ac.Isnull {
		return &Literal{Kind: LitNull, Pos: pos}
	}
	switch v := ac.Val.(type) {
	case *pg.A_Const_Ival:
		return &Literal{Kind: LitInt, Val: strconv.FormatInt(int64(v.Ival.Ival), 10), Pos: pos}
	case *pg.A_Const_Fval:
		s := v.Fval.Fval
		switch {
		case strings.ContainsAny(s, "eE"):
			return &Literal{Kind: LitFloat, Val: s, Pos: pos}
		case strings.Contains(s, "."):
			return &Literal{Kind: LitNumeric, Val: s, Pos: pos}
		}
		return &Literal{Kind: LitInt, Val: s, Pos: pos}
	case *pg.A_Const_Boolval:
		return &Literal{Kind: LitBool, Val: strconv.FormatBool(v.Boolval.Boolval), Pos: pos}
	case *pg.A_Const_Sval:
		return &Literal{Kind: LitString, Val: v.Sval.Sval, Pos: pos}
	case *pg.A_Const_Bsval:
		return &Literal{Kind: LitString, Val: v.Bsval.Bsval, Pos: pos}
	}
	return &Literal{Kind: LitNull, Pos: pos}
}

// pgTypeNames maps PostgreSQL's internal type names to the names exec.ParseType knows.
var pgTypeNames = map[string]string{
	"int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT", "float4": "REAL", "float8": "DOUBLE",
	"numeric": "DECIMAL", "bool": "BOOLEAN", "varchar": "VARCHAR", "bpchar": "CHAR", "text": "TEXT",
	"timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "date": "DATE", "interval": "INTERVAL",
}

func (c *converter) typeRef(tn *pg.TypeName) (TypeRef, error) {
	ns := names(tn.Names)
	if len(ns) == 2 && ns[0] == "pg_catalog" {
		ns = ns[1:]
	}
	t := TypeRef{Pos: c.pos(tn.Location), Array: len(tn.ArrayBounds) > 0}
	if len(ns) != 1 {
		return t, &Error{Msg: fmt.Sprintf("unknown type %q", strings.Join(ns, ".")), Source: c.src, Pos: t.Pos, Code: CodeUndefinedObject}
	}
	name := ns[0]
	if m, ok := pgTypeNames[name]; ok {
		name = m
	}
	t.Name = strings.ToUpper(name)
	if t.Name == "INTERVAL" && len(tn.Typmods) > 0 {
		return t, c.unsupported(tn.Location, "INTERVAL with fields or precision is not supported; write INTERVAL '1 hour'")
	}
	for _, m := range tn.Typmods {
		ac := m.GetAConst()
		if ac == nil || ac.GetIval() == nil {
			return t, syntaxErrorf(c.src, c.pos(nodeLocation(m)), "type modifiers must be integer constants")
		}
		t.Params = append(t.Params, int(ac.GetIval().Ival))
	}
	if name == "timestamptz" {
		t.Name = "TIMESTAMPTZ"
	}
	return t, nil
}

var pgOperators = map[string]string{
	"+": "+", "-": "-", "*": "*", "/": "/", "%": "%", "||": "||", "=": "=", "<>": "<>", "!=": "<>",
	"<": "<", "<=": "<=", ">": ">", ">=": ">=", "~": "~", "!~": "!~", "~*": "~*", "!~*": "!~*", "^": "^",
	"~~": "like", "!~~": "not like", "~~*": "ilike", "!~~*": "not ilike",
}

func (c *converter) aExpr(a *pg.A_Expr) (Expr, error) {
	pos := c.pos(a.Location)
	op := ""
	if len(a.Name) > 0 {
		op = strVal(a.Name[len(a.Name)-1])
	}
	var l, r Expr
	var err error
	if a.Lexpr != nil {
		if l, err = c.expr(a.Lexpr); err != nil {
			return nil, err
		}
	}
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if r, err = c.expr(a.Rexpr); err != nil {
			return nil, err
		}
		if op == "<=>" { // MySQL's null-safe equality
			return &Binary{Op: "is not distinct from", L: l, R: r, Pos: pos}, nil
		}
		mapped, ok := pgOperators[op]
		if !ok {
			return nil, c.unsupportedOp(a.Location, "operator does not exist: %s", op)
		}
		if l == nil {
			switch mapped {
			case "-", "+":
				return &Unary{Op: mapped, X: r, Pos: pos}, nil
			}
			return nil, c.unsupportedOp(a.Location, "prefix operator %s is not supported", op)
		}
		return &Binary{Op: mapped, L: l, R: r, Pos: pos}, nil
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		if r, err = c.expr(a.Rexpr); err != nil {
			return nil, err
		}
		o := "is distinct from"
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			o = "is not distinct from"
		}
		return &Binary{Op: o, L: l, R: r, Pos: pos}, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		if r, err = c.expr(a.Rexpr); err != nil {
			return nil, err
		}
		return &FuncCall{Name: "nullif", Args: []Expr{l, r}, Pos: pos}, nil
	case pg.A_Expr_Kind_AEXPR_IN:
		list, err := c.exprs(a.Rexpr.GetList().GetItems())
		if err != nil {
			return nil, err
		}
		return &InList{X: l, List: list, Not: op == "<>", Pos: pos}, nil
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		if fc := a.Rexpr.GetFuncCall(); fc != nil && len(fc.Funcname) > 0 && strVal(fc.Funcname[len(fc.Funcname)-1]) == "like_escape" {
			return nil, c.unsupported(a.Location, "LIKE ... ESCAPE is not supported; backslash is the escape character")
		}
		if r, err = c.expr(a.Rexpr); err != nil {
			return nil, err
		}
		return &Binary{Op: pgOperators[op], L: l, R: r, Pos: pos}, nil
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		return nil, c.unsupported(a.Location, "SIMILAR TO is not supported; use ~ with a regular expression")
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN, pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		bounds, err := c.exprs(a.Rexpr.GetList().GetItems())
		if err != nil {
			return nil, err
		}
		return &Between{X: l, Lo: bounds[0], Hi: bounds[1], Pos: pos,
			Not:       a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM,
			Symmetric: a.Kind == pg.A_Expr_Kind_AEXPR_BETWEEN_SYM || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM}, nil
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		if r, err = c.expr(a.Rexpr); err != nil {
			return nil, err
		}
		mapped, ok := pgOperators[op]
		if !ok {
			return nil, c.unsupportedOp(a.Location, "operator does not exist: %s", op)
		}
		return &ArrayOp{X: l, Op: mapped, All: a.Kind == pg.A_Expr_Kind_AEXPR_OP_ALL, Array: r, Pos: pos}, nil
	}
	return nil, c.unsupported(a.Location, "unsupported operator %s", op)
}

func (c *converter) unsupportedOp(loc int32, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Source: c.src, Pos: c.pos(loc), Code: CodeUndefinedFunction}
}

func (c *converter) funcCall(f *pg.FuncCall) (Expr, error) {
	ns := names(f.Funcname)
	out := &FuncCall{Pos: c.pos(f.Location), Star: f.AggStar, Distinct: f.AggDistinct, SQLSyntax: f.Funcformat == pg.CoercionForm_COERCE_SQL_SYNTAX}
	if len(ns) == 2 && ns[0] == "pg_catalog" {
		ns = ns[1:]
	}
	switch len(ns) {
	case 1:
		out.Name = ns[0]
	case 2:
		out.Schema, out.Name = ns[0], ns[1]
	default:
		return nil, c.unsupported(f.Location, "qualified function names are not supported: %s", strings.Join(ns, "."))
	}
	if f.FuncVariadic {
		return nil, c.unsupported(f.Location, "VARIADIC is not supported")
	}
	if f.AggWithinGroup {
		return nil, c.unsupported(f.Location, "WITHIN GROUP is not supported")
	}
	var err error
	if out.Args, err = c.exprs(f.Args); err != nil {
		return nil, err
	}
	for _, o := range f.AggOrder {
		item, err := c.sortBy(o.GetSortBy())
		if err != nil {
			return nil, err
		}
		out.OrderBy = append(out.OrderBy, item)
	}
	if f.AggFilter != nil {
		if out.Filter, err = c.expr(f.AggFilter); err != nil {
			return nil, err
		}
	}
	if f.Over != nil {
		if out.Over, err = c.windowDef(f.Over); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Frame option bits of PostgreSQL's WindowDef.frameOptions (nodes/parsenodes.h).
const (
	frameNonDefault           = 0x00001
	frameRange                = 0x00002
	frameRows                 = 0x00004
	frameGroups               = 0x00008
	frameStartUnboundedPrec   = 0x00020
	frameEndUnboundedPrec     = 0x00040
	frameStartUnboundedFollow = 0x00080
	frameEndUnboundedFollow   = 0x00100
	frameStartCurrentRow      = 0x00200
	frameEndCurrentRow        = 0x00400
	frameStartOffsetPreceding = 0x00800
	frameEndOffsetPreceding   = 0x01000
	frameStartOffsetFollowing = 0x02000
	frameEndOffsetFollowing   = 0x04000
	frameExclusionMask        = 0x08000 | 0x10000 | 0x20000
)

func (c *converter) windowDef(w *pg.WindowDef) (*WindowSpec, error) {
	ws := &WindowSpec{Name: w.Refname, Pos: c.pos(w.Location)}
	if w.Name != "" && w.Refname == "" && len(w.PartitionClause) == 0 && len(w.OrderClause) == 0 {
		ws.Name = w.Name
	}
	var err error
	if ws.PartitionBy, err = c.exprs(w.PartitionClause); err != nil {
		return nil, err
	}
	for _, o := range w.OrderClause {
		item, err := c.sortBy(o.GetSortBy())
		if err != nil {
			return nil, err
		}
		ws.OrderBy = append(ws.OrderBy, item)
	}
	fo := w.FrameOptions
	if fo&frameNonDefault == 0 {
		return ws, nil
	}
	if fo&frameExclusionMask != 0 {
		return nil, c.unsupported(w.Location, "frame EXCLUDE is not supported")
	}
	fr := &Frame{Pos: ws.Pos}
	switch {
	case fo&frameRows != 0:
		fr.Mode = "rows"
	case fo&frameGroups != 0:
		fr.Mode = "groups"
	default:
		fr.Mode = "range"
	}
	bound := func(unbPrec, unbFol, cur, offPrec, offFol int32, off *pg.Node) (FrameBound, error) {
		switch {
		case fo&unbPrec != 0:
			return FrameBound{Kind: "unbounded preceding"}, nil
		case fo&unbFol != 0:
			return FrameBound{Kind: "unbounded following"}, nil
		case fo&cur != 0:
			return FrameBound{Kind: "current row"}, nil
		}
		e, err := c.expr(off)
		if err != nil {
			return FrameBound{}, err
		}
		if fo&offPrec != 0 {
			return FrameBound{Kind: "preceding", Offset: e}, nil
		}
		return FrameBound{Kind: "following", Offset: e}, nil
	}
	if fr.Start, err = bound(frameStartUnboundedPrec, frameStartUnboundedFollow, frameStartCurrentRow, frameStartOffsetPreceding, frameStartOffsetFollowing, w.StartOffset); err != nil {
		return nil, err
	}
	if fr.End, err = bound(frameEndUnboundedPrec, frameEndUnboundedFollow, frameEndCurrentRow, frameEndOffsetPreceding, frameEndOffsetFollowing, w.EndOffset); err != nil {
		return nil, err
	}
	ws.Frame = fr
	return ws, nil
}

func (c *converter) subLink(s *pg.SubLink) (Expr, error) {
	q, err := c.query(s.Subselect)
	if err != nil {
		return nil, err
	}
	pos := c.pos(s.Location)
	out := &SubqueryExpr{Query: q, Pos: pos}
	if s.Testexpr != nil {
		if out.X, err = c.expr(s.Testexpr); err != nil {
			return nil, err
		}
	}
	op := "="
	if len(s.OperName) > 0 {
		op = strVal(s.OperName[len(s.OperName)-1])
	}
	switch s.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		out.Kind = SubExists
	case pg.SubLinkType_EXPR_SUBLINK:
		out.Kind = SubScalar
	case pg.SubLinkType_ANY_SUBLINK:
		if op == "=" {
			out.Kind = SubIn // x IN (SELECT ...) and x = ANY (SELECT ...)
		} else {
			out.Kind, out.Op = SubAny, pgOperators[op]
		}
	case pg.SubLinkType_ALL_SUBLINK:
		out.Kind, out.Op = SubAll, pgOperators[op]
	case pg.SubLinkType_ARRAY_SUBLINK:
		return &Unsupported{Msg: "ARRAY(subquery) is not supported", Pos: pos}, nil
	default:
		return nil, c.unsupported(s.Location, "row comparisons with subqueries are not supported")
	}
	if (out.Kind == SubAny || out.Kind == SubAll) && out.Op == "" {
		return nil, c.unsupportedOp(s.Location, "operator does not exist: %s", op)
	}
	return out, nil
}

// ---- INSERT ----

func (c *converter) insert(n *pg.Node) (*Insert, error) {
	ins := n.GetInsertStmt()
	if ins == nil {
		return nil, syntaxErrorf(c.src, 0, "only INSERT INTO ... VALUES and INSERT INTO ... SELECT are supported")
	}
	if ins.OnConflictClause != nil {
		return nil, c.unsupported(ins.OnConflictClause.Location, "ON CONFLICT is not supported: tables are append-only")
	}
	if len(ins.ReturningList) > 0 {
		return nil, c.unsupported(nodeLocation(ins.ReturningList[0]), "RETURNING is not supported")
	}
	if ins.WithClause != nil {
		return nil, c.unsupported(ins.WithClause.Location, "WITH before INSERT is not supported; put it in the SELECT")
	}
	rv := ins.Relation
	if rv.Schemaname != "" {
		return nil, c.unsupported(rv.Location, "schema-qualified table names are not supported: %s.%s", rv.Schemaname, rv.Relname)
	}
	out := &Insert{Table: rv.Relname, TablePos: c.pos(rv.Location), src: c.src}
	for _, col := range ins.Cols {
		rt := col.GetResTarget()
		if len(rt.Indirection) > 0 {
			return nil, c.unsupported(rt.Location, "INSERT into a subfield or subscript is not supported")
		}
		out.Columns = append(out.Columns, rt.Name)
		out.ColumnPos = append(out.ColumnPos, c.pos(rt.Location))
	}
	if ins.SelectStmt == nil {
		return nil, c.unsupported(-1, "INSERT ... DEFAULT VALUES is not supported")
	}
	q, err := c.query(ins.SelectStmt)
	if err != nil {
		return nil, err
	}
	if v, ok := q.body.(*Values); ok && len(q.With) == 0 && len(v.OrderBy) == 0 && v.Limit == nil && v.Offset == nil {
		out.rows = v.Rows
		out.ValuesPos = v.Pos
	} else {
		out.Query = q
	}
	return out, nil
}

// dmlTarget checks the table of DELETE or UPDATE: one unqualified (or public.) table, no ONLY.
func (c *converter) dmlTarget(rv *pg.RangeVar) (name string, pos int, alias string, err error) {
	if rv.Schemaname != "" && rv.Schemaname != "public" {
		return "", 0, "", c.unsupported(rv.Location, "schema-qualified table names are not supported: %s.%s", rv.Schemaname, rv.Relname)
	}
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
	}
	return rv.Relname, c.pos(rv.Location), alias, nil
}

func (c *converter) deleteStmt(d *pg.DeleteStmt) (*Delete, error) {
	if len(d.ReturningList) > 0 {
		return nil, c.unsupported(nodeLocation(d.ReturningList[0]), "RETURNING is not supported")
	}
	if d.WithClause != nil {
		return nil, c.unsupported(d.WithClause.Location, "WITH before DELETE is not supported; use a subquery in WHERE")
	}
	if len(d.UsingClause) > 0 {
		return nil, c.unsupported(nodeLocation(d.UsingClause[0]), "DELETE ... USING is not supported; use WHERE ... IN (SELECT ...)")
	}
	name, pos, alias, err := c.dmlTarget(d.Relation)
	if err != nil {
		return nil, err
	}
	out := &Delete{Table: name, TablePos: pos, Alias: alias, src: c.src}
	if d.WhereClause != nil {
		if d.WhereClause.GetCurrentOfExpr() != nil {
			return nil, c.unsupported(-1, "WHERE CURRENT OF is not supported")
		}
		if out.Where, err = c.expr(d.WhereClause); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *converter) updateStmt(u *pg.UpdateStmt) (*Update, error) {
	if len(u.ReturningList) > 0 {
		return nil, c.unsupported(nodeLocation(u.ReturningList[0]), "RETURNING is not supported")
	}
	if u.WithClause != nil {
		return nil, c.unsupported(u.WithClause.Location, "WITH before UPDATE is not supported; use a subquery")
	}
	if len(u.FromClause) > 0 {
		return nil, c.unsupported(nodeLocation(u.FromClause[0]), "UPDATE ... FROM is not supported; use a scalar subquery in SET")
	}
	name, pos, alias, err := c.dmlTarget(u.Relation)
	if err != nil {
		return nil, err
	}
	out := &Update{Table: name, TablePos: pos, Alias: alias, src: c.src}
	for _, t := range u.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			return nil, c.unsupported(nodeLocation(t), "this SET form is not supported")
		}
		if len(rt.Indirection) > 0 {
			return nil, c.unsupported(rt.Location, "UPDATE of a subfield or subscript is not supported")
		}
		if rt.Val.GetMultiAssignRef() != nil {
			return nil, c.unsupported(rt.Location, "SET (columns) = (...) is not supported; assign each column")
		}
		if rt.Val.GetSetToDefault() != nil {
			// A column's default is NULL (CREATE TABLE has no DEFAULT clause).
			out.Set = append(out.Set, Assignment{Column: rt.Name, Pos: c.pos(rt.Location), Value: &Literal{Kind: LitNull, Pos: c.pos(rt.Location)}})
			continue
		}
		v, err := c.expr(rt.Val)
		if err != nil {
			return nil, err
		}
		out.Set = append(out.Set, Assignment{Column: rt.Name, Pos: c.pos(rt.Location), Value: v})
	}
	if u.WhereClause != nil {
		if u.WhereClause.GetCurrentOfExpr() != nil {
			return nil, c.unsupported(-1, "WHERE CURRENT OF is not supported")
		}
		if out.Where, err = c.expr(u.WhereClause); err != nil {
			return nil, err
		}
	}
	return out, nil
}
