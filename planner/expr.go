package planner

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Expr is a bound, typed expression of the logical plan.
type Expr interface {
	Type() arrow.DataType
	String() string
}

// ColRef is input column Index of the node that holds the expression.
type ColRef struct {
	Index int
	Name  string
	Typ   arrow.DataType
}

// Const is a constant (a literal or a folded expression).
type Const struct {
	Value exec.Datum
	Typ   arrow.DataType
}

// Func is a scalar function or operator from the exec registry. Args already have Bound.Args types.
type Func struct {
	Name  string
	Args  []Expr
	Bound *exec.Bound
}

// Cast converts X to To.
type Cast struct {
	X  Expr
	To arrow.DataType
}

// Case is CASE [Operand] WHEN .. THEN .. [ELSE ..] END with result type Typ.
type Case struct {
	Operand      Expr
	Whens, Thens []Expr
	Else         Expr
	Typ          arrow.DataType
}

// InList is X [NOT] IN (List...), with SQL NULL semantics.
type InList struct {
	X    Expr
	List []Expr
	Not  bool
}

// SubqueryKind tells how a subquery's rows become a value.
type SubqueryKind int

const (
	SubqueryScalar SubqueryKind = iota // (SELECT x ...): one column, at most one row
	SubqueryExists                     // EXISTS (SELECT ...)
	SubqueryIn                         // X IN (SELECT y ...)
)

// Subquery is a subquery. Without Outer it is uncorrelated and evaluated once before the query
// that contains it. With Outer it is correlated: Outer are expressions over the containing
// query's row, Plan reads them as OuterRef{Index: i} (the i-th), and the subquery is evaluated
// per distinct combination of their values (a batch query only).
type Subquery struct {
	Kind  SubqueryKind
	Plan  Node
	X     Expr // for SubqueryIn
	Not   bool // NOT EXISTS / NOT IN
	Typ   arrow.DataType
	Outer []Expr
}

// OuterRef is, inside a correlated subquery's plan, the value of the Index-th of the
// subquery's Outer expressions for the containing query's current row: a constant while the
// subquery runs once.
type OuterRef struct {
	Index int
	Name  string
	Typ   arrow.DataType
}

func (o *OuterRef) Type() arrow.DataType { return o.Typ }
func (o *OuterRef) String() string       { return "outer(" + o.Name + ")" }

func (c *ColRef) Type() arrow.DataType   { return c.Typ }
func (c *Const) Type() arrow.DataType    { return c.Typ }
func (f *Func) Type() arrow.DataType     { return f.Bound.Ret }
func (c *Cast) Type() arrow.DataType     { return c.To }
func (c *Case) Type() arrow.DataType     { return c.Typ }
func (i *InList) Type() arrow.DataType   { return exec.Bool }
func (s *Subquery) Type() arrow.DataType { return s.Typ }

func (c *ColRef) String() string { return c.Name }
func (c *Const) String() string  { return (&exec.Literal{Value: c.Value, Typ: c.Typ}).String() }
func (f *Func) String() string {
	args := joinExprs(f.Args)
	if f.Bound.Infix && len(f.Args) == 2 {
		return "(" + f.Args[0].String() + " " + strings.ToUpper(f.Name) + " " + f.Args[1].String() + ")"
	}
	return f.Name + "(" + args + ")"
}
func (c *Cast) String() string { return "CAST(" + c.X.String() + " AS " + exec.TypeName(c.To) + ")" }
func (c *Case) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	if c.Operand != nil {
		sb.WriteString(" " + c.Operand.String())
	}
	for i := range c.Whens {
		fmt.Fprintf(&sb, " WHEN %s THEN %s", c.Whens[i], c.Thens[i])
	}
	if c.Else != nil {
		sb.WriteString(" ELSE " + c.Else.String())
	}
	sb.WriteString(" END")
	return sb.String()
}
func (i *InList) String() string {
	not := ""
	if i.Not {
		not = "NOT "
	}
	return i.X.String() + " " + not + "IN (" + joinExprs(i.List) + ")"
}
func (s *Subquery) String() string {
	switch s.Kind {
	case SubqueryExists:
		if s.Not {
			return "NOT EXISTS(subquery)"
		}
		return "EXISTS(subquery)"
	case SubqueryIn:
		if s.Not {
			return s.X.String() + " NOT IN (subquery)"
		}
		return s.X.String() + " IN (subquery)"
	}
	if len(s.Outer) > 0 {
		return "(correlated scalar subquery)"
	}
	return "(scalar subquery)"
}

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

// Walk calls f for e and every sub-expression (not descending into subquery plans).
func Walk(e Expr, f func(Expr)) {
	if e == nil {
		return
	}
	f(e)
	switch x := e.(type) {
	case *Func:
		for _, a := range x.Args {
			Walk(a, f)
		}
	case *Cast:
		Walk(x.X, f)
	case *Case:
		Walk(x.Operand, f)
		for i := range x.Whens {
			Walk(x.Whens[i], f)
			Walk(x.Thens[i], f)
		}
		Walk(x.Else, f)
	case *InList:
		Walk(x.X, f)
		for _, a := range x.List {
			Walk(a, f)
		}
	case *Subquery:
		Walk(x.X, f)
		for _, a := range x.Outer {
			Walk(a, f)
		}
	}
}

// MapColumns returns a copy of e with every ColRef replaced by f(ref).
func MapColumns(e Expr, f func(*ColRef) Expr) Expr {
	switch x := e.(type) {
	case nil:
		return nil
	case *ColRef:
		return f(x)
	case *Func:
		args := make([]Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = MapColumns(a, f)
		}
		return &Func{Name: x.Name, Args: args, Bound: x.Bound}
	case *Cast:
		return &Cast{X: MapColumns(x.X, f), To: x.To}
	case *Case:
		c := &Case{Operand: MapColumns(x.Operand, f), Else: MapColumns(x.Else, f), Typ: x.Typ}
		for i := range x.Whens {
			c.Whens = append(c.Whens, MapColumns(x.Whens[i], f))
			c.Thens = append(c.Thens, MapColumns(x.Thens[i], f))
		}
		return c
	case *InList:
		l := &InList{X: MapColumns(x.X, f), Not: x.Not}
		for _, a := range x.List {
			l.List = append(l.List, MapColumns(a, f))
		}
		return l
	case *Subquery:
		s := *x
		s.X = MapColumns(x.X, f)
		s.Outer = nil
		for _, a := range x.Outer {
			s.Outer = append(s.Outer, MapColumns(a, f))
		}
		return &s
	}
	return e
}

// ColumnsUsed returns the set of input column indexes e reads.
func ColumnsUsed(e Expr) map[int]bool {
	used := map[int]bool{}
	Walk(e, func(x Expr) {
		if c, ok := x.(*ColRef); ok {
			used[c.Index] = true
		}
	})
	return used
}

// Conjuncts splits a AND b AND c into its parts.
func Conjuncts(e Expr) []Expr {
	if f, ok := e.(*Func); ok && f.Name == "and" {
		return append(Conjuncts(f.Args[0]), Conjuncts(f.Args[1])...)
	}
	if e == nil {
		return nil
	}
	return []Expr{e}
}

// And combines conjuncts (nil for none).
func And(es []Expr) (Expr, error) {
	var out Expr
	for _, e := range es {
		if out == nil {
			out = e
			continue
		}
		b, err := exec.BindCall("and", []arrow.DataType{out.Type(), e.Type()})
		if err != nil {
			return nil, err
		}
		out = &Func{Name: "and", Args: []Expr{out, e}, Bound: b}
	}
	return out, nil
}
