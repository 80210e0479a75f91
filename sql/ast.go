package sql

import (
	"strconv"
	"strings"
)

// Our own syntax tree for queries. convert.go builds it from PostgreSQL's parse tree; the binder
// reads nothing else. Every node carries Pos, the byte offset in the statement's text (as the
// user typed it, before the token pre-step) of the token an error about the node should point at:
// the name of a column or function, the operator of an operation, the keyword of a clause.

// Expr is an expression node.
type Expr interface {
	Position() int
	expr()
}

// LitKind classifies a literal.
type LitKind int

const (
	LitNull    LitKind = iota
	LitBool            // Val "true" or "false"
	LitInt             // an integer that fits in int64 or not (Val holds the digits)
	LitNumeric         // a decimal number without exponent: 1.50
	LitFloat           // a number with exponent: 1e3
	LitString          // a quoted string, decoded
)

// Literal is a constant as written.
type Literal struct {
	Kind LitKind
	Val  string
	Pos  int
}

// ColName is [Table.]Name; Pos is at Name (so "missing FROM-clause entry" and "does not exist"
// point at the column), TablePos at the qualifier.
type ColName struct {
	Table, Name string
	Pos         int
	TablePos    int
}

// Param is $N, only valid where the network server has substituted it.
type Param struct {
	N   int
	Pos int
}

// Unary is Op X with Op one of "-", "+", "not".
type Unary struct {
	Op  string
	X   Expr
	Pos int
}

// Binary is L Op R. Op is a lower-case operator or keyword: + - * / % || = <> < <= > >= and or
// like "not like" ilike "not ilike" ~ !~ ~* !~* "is distinct from" "is not distinct from" ^ div.
type Binary struct {
	Op   string
	L, R Expr
	Pos  int
}

// IsTest is X IS [NOT] NULL|TRUE|FALSE|UNKNOWN.
type IsTest struct {
	X    Expr
	What string // "null", "true", "false", "unknown"
	Not  bool
	Pos  int
}

// Between is X [NOT] BETWEEN [SYMMETRIC] Lo AND Hi.
type Between struct {
	X, Lo, Hi Expr
	Not       bool
	Symmetric bool
	Pos       int
}

// InList is X [NOT] IN (List...).
type InList struct {
	X    Expr
	List []Expr
	Not  bool
	Pos  int
}

// SubqueryKind tells how a subquery expression uses its rows.
type SubqueryKind int

const (
	SubScalar SubqueryKind = iota // (SELECT ...)
	SubExists                     // EXISTS (SELECT ...)
	SubIn                         // X IN (SELECT ...)
	SubAny                        // X op ANY (SELECT ...)
	SubAll                        // X op ALL (SELECT ...)
)

// SubqueryExpr is a subquery used as a value.
type SubqueryExpr struct {
	Kind  SubqueryKind
	X     Expr   // SubIn, SubAny, SubAll
	Op    string // SubAny, SubAll
	Query *Query
	Pos   int
}

// ArrayOp is X op ANY(array) / X op ALL(array) over an array value (ARRAY[...] or a parameter).
type ArrayOp struct {
	X     Expr
	Op    string
	All   bool
	Array Expr
	Pos   int
}

// Array is ARRAY[e, ...].
type Array struct {
	Elems []Expr
	Pos   int
}

// TypeRef is a type as written in CAST or ::, already mapped from PostgreSQL's internal names
// (int8 -> BIGINT); Params are the numeric modifiers, VARCHAR(20), DECIMAL(10, 2).
type TypeRef struct {
	Name   string
	Params []int
	Array  bool
	Pos    int
}

// Cast is CAST(X AS Type), X::Type or a typed literal TYPE 'text' (Literal true).
type Cast struct {
	X       Expr
	Type    TypeRef
	Literal bool
	Pos     int
}

// WindowSpec is the OVER (...) of a window function call.
type WindowSpec struct {
	Name        string // OVER w, a named window of the WINDOW clause (not supported)
	PartitionBy []Expr
	OrderBy     []OrderItem
	Frame       *Frame
	Pos         int
}

// FrameBound is one end of a window frame.
type FrameBound struct {
	Kind   string // "unbounded preceding", "preceding", "current row", "following", "unbounded following"
	Offset Expr
}

// Frame is ROWS|RANGE BETWEEN Start AND End.
type Frame struct {
	Mode       string // "rows", "range", "groups"
	Start, End FrameBound
	Pos        int
}

// FuncCall is name([DISTINCT] args) [FILTER (WHERE ...)] [OVER (...)]. Name is lower-case (or as
// quoted); Star is name(*). SQLSyntax marks calls PostgreSQL's grammar made from SQL syntax
// (EXTRACT(x FROM y), TRIM(BOTH ...), POSITION(a IN b), SUBSTRING(x FROM ...)).
type FuncCall struct {
	Name      string
	Schema    string
	Args      []Expr
	Star      bool
	Distinct  bool
	Filter    Expr
	Over      *WindowSpec
	OrderBy   []OrderItem
	SQLSyntax bool
	Pos       int
}

// When is one WHEN Cond THEN Val of a CASE.
type When struct {
	Cond, Val Expr
}

// Case is CASE [Operand] WHEN ... [ELSE ...] END.
type Case struct {
	Operand Expr
	Whens   []When
	Else    Expr
	Pos     int
}

func (e *Literal) Position() int      { return e.Pos }
func (e *ColName) Position() int      { return e.Pos }
func (e *Param) Position() int        { return e.Pos }
func (e *Unary) Position() int        { return e.Pos }
func (e *Binary) Position() int       { return e.Pos }
func (e *IsTest) Position() int       { return e.Pos }
func (e *Between) Position() int      { return e.Pos }
func (e *InList) Position() int       { return e.Pos }
func (e *SubqueryExpr) Position() int { return e.Pos }
func (e *ArrayOp) Position() int      { return e.Pos }
func (e *Array) Position() int        { return e.Pos }
func (e *Cast) Position() int         { return e.Pos }
func (e *FuncCall) Position() int     { return e.Pos }
func (e *Case) Position() int         { return e.Pos }

func (*Literal) expr()      {}
func (*ColName) expr()      {}
func (*Param) expr()        {}
func (*Unary) expr()        {}
func (*Binary) expr()       {}
func (*IsTest) expr()       {}
func (*Between) expr()      {}
func (*InList) expr()       {}
func (*SubqueryExpr) expr() {}
func (*ArrayOp) expr()      {}
func (*Array) expr()        {}
func (*Cast) expr()         {}
func (*FuncCall) expr()     {}
func (*Case) expr()         {}

// SelectItem is one item of a select list: an expression with an optional alias, * or table.*.
type SelectItem struct {
	Expr      Expr
	Alias     string
	Star      bool
	StarTable string
	Pos       int
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr  Expr
	Desc  bool
	Nulls string // "", "first", "last"
	Pos   int
}

// TableExpr is an item of FROM.
type TableExpr interface {
	Position() int
	tableExpr()
}

// TableName is a named table (or CTE) with an optional alias.
type TableName struct {
	Schema, Name string
	Alias        string
	ColAliases   []string
	Pos          int
}

// DerivedTable is (query) AS alias.
type DerivedTable struct {
	Query      *Query
	Alias      string
	ColAliases []string
	Lateral    bool
	Pos        int
}

// FuncTable is a set-returning function in FROM: generate_series(1, 10) AS g.
type FuncTable struct {
	Call       *FuncCall
	Alias      string
	ColAliases []string
	Pos        int
}

// JoinKind names a join.
type JoinKind string

const (
	JoinInner JoinKind = "inner"
	JoinLeft  JoinKind = "left"
	JoinRight JoinKind = "right"
	JoinFull  JoinKind = "full"
	JoinCross JoinKind = "cross"
)

// Join is L [kind] JOIN R [ON cond | USING (cols)].
type Join struct {
	Kind    JoinKind
	Natural bool
	L, R    TableExpr
	On      Expr
	Using   []string
	Pos     int
}

func (t *TableName) Position() int    { return t.Pos }
func (t *DerivedTable) Position() int { return t.Pos }
func (t *FuncTable) Position() int    { return t.Pos }
func (t *Join) Position() int         { return t.Pos }
func (*TableName) tableExpr()         {}
func (*DerivedTable) tableExpr()      {}
func (*FuncTable) tableExpr()         {}
func (*Join) tableExpr()              {}

// QueryBody is a SELECT, a set operation or VALUES.
type QueryBody interface {
	Position() int
	queryBody()
}

// Tail is what may follow any query body: ORDER BY, LIMIT, OFFSET.
type Tail struct {
	OrderBy             []OrderItem
	Limit               Expr // nil: none; LIMIT ALL is nil too
	Offset              Expr
	LimitPos, OffsetPos int
}

// Select is one SELECT block.
type Select struct {
	Distinct   bool
	DistinctOn []Expr
	Items      []SelectItem
	From       []TableExpr
	Where      Expr
	GroupBy    []Expr
	Having     Expr
	Windows    bool // a WINDOW clause was given
	Tail
	Pos, WherePos, HavingPos int
}

// SetOp is L UNION|EXCEPT|INTERSECT [ALL] R.
type SetOp struct {
	Op   string // "union", "except", "intersect"
	All  bool
	L, R *Query
	Tail
	Pos int
}

// Values is VALUES (row), (row) ... used as a query.
type Values struct {
	Rows [][]Expr
	Tail
	Pos int
}

func (s *Select) Position() int { return s.Pos }
func (s *SetOp) Position() int  { return s.Pos }
func (v *Values) Position() int { return v.Pos }
func (*Select) queryBody()      {}
func (*SetOp) queryBody()       {}
func (*Values) queryBody()      {}

// WalkExpr calls f for e and each sub-expression, not entering subqueries. f returning false
// stops the descent below that node.
func WalkExpr(e Expr, f func(Expr) bool) {
	if e == nil || !f(e) {
		return
	}
	switch x := e.(type) {
	case *Unary:
		WalkExpr(x.X, f)
	case *Binary:
		WalkExpr(x.L, f)
		WalkExpr(x.R, f)
	case *IsTest:
		WalkExpr(x.X, f)
	case *Between:
		WalkExpr(x.X, f)
		WalkExpr(x.Lo, f)
		WalkExpr(x.Hi, f)
	case *InList:
		WalkExpr(x.X, f)
		for _, a := range x.List {
			WalkExpr(a, f)
		}
	case *SubqueryExpr:
		WalkExpr(x.X, f)
	case *ArrayOp:
		WalkExpr(x.X, f)
		WalkExpr(x.Array, f)
	case *Array:
		for _, a := range x.Elems {
			WalkExpr(a, f)
		}
	case *Cast:
		WalkExpr(x.X, f)
	case *FuncCall:
		for _, a := range x.Args {
			WalkExpr(a, f)
		}
		WalkExpr(x.Filter, f)
	case *Case:
		WalkExpr(x.Operand, f)
		for _, w := range x.Whens {
			WalkExpr(w.Cond, f)
			WalkExpr(w.Val, f)
		}
		WalkExpr(x.Else, f)
	}
}

// ExprString renders e canonically (names folded, no positions): two expressions written
// alike give the same string, which is how window(...) in the select list is matched with
// the one in GROUP BY.
func ExprString(e Expr) string {
	var sb strings.Builder
	writeExpr(&sb, e)
	return sb.String()
}

func writeExprs(sb *strings.Builder, es []Expr) {
	for i, a := range es {
		if i > 0 {
			sb.WriteString(", ")
		}
		writeExpr(sb, a)
	}
}

func writeExpr(sb *strings.Builder, e Expr) {
	switch x := e.(type) {
	case nil:
		sb.WriteString("<nil>")
	case *Literal:
		if x.Kind == LitString {
			sb.WriteString("'" + strings.ReplaceAll(x.Val, "'", "''") + "'")
		} else if x.Kind == LitNull {
			sb.WriteString("NULL")
		} else {
			sb.WriteString(x.Val)
		}
	case *ColName:
		if x.Table != "" {
			sb.WriteString(x.Table + ".")
		}
		sb.WriteString(x.Name)
	case *Param:
		sb.WriteString("$" + strconv.Itoa(x.N))
	case *Unary:
		sb.WriteString("(" + x.Op + " ")
		writeExpr(sb, x.X)
		sb.WriteString(")")
	case *Binary:
		sb.WriteString("(")
		writeExpr(sb, x.L)
		sb.WriteString(" " + x.Op + " ")
		writeExpr(sb, x.R)
		sb.WriteString(")")
	case *IsTest:
		writeExpr(sb, x.X)
		sb.WriteString(" IS ")
		if x.Not {
			sb.WriteString("NOT ")
		}
		sb.WriteString(x.What)
	case *Between:
		writeExpr(sb, x.X)
		if x.Not {
			sb.WriteString(" NOT")
		}
		sb.WriteString(" BETWEEN ")
		writeExpr(sb, x.Lo)
		sb.WriteString(" AND ")
		writeExpr(sb, x.Hi)
	case *InList:
		writeExpr(sb, x.X)
		if x.Not {
			sb.WriteString(" NOT")
		}
		sb.WriteString(" IN (")
		writeExprs(sb, x.List)
		sb.WriteString(")")
	case *SubqueryExpr:
		sb.WriteString("(subquery@" + strconv.Itoa(x.Pos) + ")")
	case *ArrayOp:
		writeExpr(sb, x.X)
		sb.WriteString(" " + x.Op)
		if x.All {
			sb.WriteString(" ALL(")
		} else {
			sb.WriteString(" ANY(")
		}
		writeExpr(sb, x.Array)
		sb.WriteString(")")
	case *Array:
		sb.WriteString("ARRAY[")
		writeExprs(sb, x.Elems)
		sb.WriteString("]")
	case *Cast:
		sb.WriteString("CAST(")
		writeExpr(sb, x.X)
		sb.WriteString(" AS " + x.Type.Name)
		if len(x.Type.Params) > 0 {
			sb.WriteString("(")
			for i, p := range x.Type.Params {
				if i > 0 {
					sb.WriteString(",")
				}
				sb.WriteString(strconv.Itoa(p))
			}
			sb.WriteString(")")
		}
		sb.WriteString(")")
	case *FuncCall:
		sb.WriteString(x.Name + "(")
		if x.Distinct {
			sb.WriteString("DISTINCT ")
		}
		if x.Star {
			sb.WriteString("*")
		}
		writeExprs(sb, x.Args)
		sb.WriteString(")")
		if x.Filter != nil {
			sb.WriteString(" FILTER (WHERE ")
			writeExpr(sb, x.Filter)
			sb.WriteString(")")
		}
		if x.Over != nil {
			sb.WriteString(" OVER (...)")
		}
	case *Case:
		sb.WriteString("CASE")
		if x.Operand != nil {
			sb.WriteString(" ")
			writeExpr(sb, x.Operand)
		}
		for _, w := range x.Whens {
			sb.WriteString(" WHEN ")
			writeExpr(sb, w.Cond)
			sb.WriteString(" THEN ")
			writeExpr(sb, w.Val)
		}
		if x.Else != nil {
			sb.WriteString(" ELSE ")
			writeExpr(sb, x.Else)
		}
		sb.WriteString(" END")
	}
}
