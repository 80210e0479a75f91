package planner

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Column is an output column of a node. Table is the qualifier it can be referenced by (the
// table name or alias), empty for computed columns.
type Column struct {
	Name  string
	Table string
	Type  arrow.DataType
}

// Node is a logical plan node.
type Node interface {
	Columns() []Column
	Children() []Node
	// Describe is the node's one-line EXPLAIN text.
	Describe() string
}

// TableSource is a table the planner can scan: an in-memory table or a file-backed table.
// Open returns an exec.Source emitting only the columns proj (indexes into Schema; nil: all).
type TableSource interface {
	Schema() *arrow.Schema
	Open(proj []int) (exec.Source, error)
}

// Scan reads a table. Proj selects the table columns read, in order; Cols describes them.
type Scan struct {
	Table  string
	Alias  string
	Source TableSource
	Proj   []int
	Cols   []Column
}

// Values produces constant rows.
type Values struct {
	Rows [][]exec.Datum
	Cols []Column
}

// Filter keeps the rows where Pred is TRUE.
type Filter struct {
	Input Node
	Pred  Expr
}

// Project computes Exprs over its input.
type Project struct {
	Input Node
	Exprs []Expr
	Cols  []Column
}

// AggCall is one aggregate function call; Arg is nil for count(*).
type AggCall struct {
	Kind     exec.AggKind
	Distinct bool
	Arg      Expr
}

// Aggregate groups by Groups and computes Aggs; its columns are the groups, then session_start
// and session_end when Session is set, then the aggregates.
type Aggregate struct {
	Input  Node
	Groups []Expr
	Aggs   []AggCall
	Cols   []Column
	// Windowed says Groups[WindowEnd] is the window_end column of a time window: the event time
	// by which a streaming aggregate closes groups and drops late rows.
	Windowed  bool
	WindowEnd int
	// Session makes this a session-window aggregate (session_window(ts, gap) in GROUP BY).
	Session *SessionWindow
}

// SessionWindow groups a key's rows into sessions that extend while events are less than Gap
// (microseconds) apart.
type SessionWindow struct {
	Time Expr
	Gap  int64
}

// WindowAssign appends window_start and window_end (TIMESTAMP) to each row, one row per time
// window containing the row's event time (input column TimeCol): tumbling windows when Slide ==
// Size, sliding otherwise. Sizes are in microseconds.
type WindowAssign struct {
	Input       Node
	TimeCol     int
	Size, Slide int64
	Cols        []Column
	// Cumulate makes Flink's cumulating windows (CUMULATE TVF): Slide is the step, every window
	// of a row starts at its Size-aligned period (exec.NewCumulateWindowAssign).
	Cumulate bool
}

// JoinKind is the SQL join type.
type JoinKind int

const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	CrossJoin
)

func (k JoinKind) String() string {
	return [...]string{"Inner", "Left", "Right", "Cross"}[k]
}

// Join combines Left and Right; Cond is over the left columns followed by the right columns.
type Join struct {
	Kind        JoinKind
	Left, Right Node
	Cond        Expr
}

// SortKey orders by Expr (over the sort's input).
type SortKey struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
}

// Sort orders its input.
type Sort struct {
	Input Node
	Keys  []SortKey
}

// Limit skips Offset rows and keeps Count (-1: all).
type Limit struct {
	Input         Node
	Count, Offset int64
}

// Union is UNION ALL of inputs with identical column types.
type Union struct {
	Inputs []Node
	Cols   []Column
}

// Explode replaces list column Col of its input by one row per element.
type Explode struct {
	Input Node
	Col   int
	Cols  []Column
}

func (s *Scan) Columns() []Column         { return s.Cols }
func (v *Values) Columns() []Column       { return v.Cols }
func (f *Filter) Columns() []Column       { return f.Input.Columns() }
func (p *Project) Columns() []Column      { return p.Cols }
func (a *Aggregate) Columns() []Column    { return a.Cols }
func (w *WindowAssign) Columns() []Column { return w.Cols }
func (j *Join) Columns() []Column {
	return append(append([]Column{}, j.Left.Columns()...), j.Right.Columns()...)
}
func (s *Sort) Columns() []Column    { return s.Input.Columns() }
func (l *Limit) Columns() []Column   { return l.Input.Columns() }
func (u *Union) Columns() []Column   { return u.Cols }
func (e *Explode) Columns() []Column { return e.Cols }

func (s *Scan) Children() []Node         { return nil }
func (v *Values) Children() []Node       { return nil }
func (f *Filter) Children() []Node       { return []Node{f.Input} }
func (p *Project) Children() []Node      { return []Node{p.Input} }
func (a *Aggregate) Children() []Node    { return []Node{a.Input} }
func (w *WindowAssign) Children() []Node { return []Node{w.Input} }
func (j *Join) Children() []Node         { return []Node{j.Left, j.Right} }
func (s *Sort) Children() []Node         { return []Node{s.Input} }
func (l *Limit) Children() []Node        { return []Node{l.Input} }
func (u *Union) Children() []Node        { return u.Inputs }
func (e *Explode) Children() []Node      { return []Node{e.Input} }

func colNames(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name
	}
	return strings.Join(parts, ", ")
}

func (s *Scan) Describe() string {
	name := s.Table
	if s.Alias != "" && s.Alias != s.Table {
		name += " AS " + s.Alias
	}
	return fmt.Sprintf("Scan %s [%s]", name, colNames(s.Cols))
}
func (v *Values) Describe() string {
	return fmt.Sprintf("Values %d rows [%s]", len(v.Rows), colNames(v.Cols))
}
func (f *Filter) Describe() string { return "Filter " + f.Pred.String() }
func (p *Project) Describe() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		parts[i] = e.String()
		if p.Cols[i].Name != e.String() {
			parts[i] += " AS " + p.Cols[i].Name
		}
	}
	return "Project " + strings.Join(parts, ", ")
}
func (a *Aggregate) Describe() string {
	aggs := make([]string, len(a.Aggs))
	for i, c := range a.Aggs {
		aggs[i] = c.String()
	}
	if a.Session != nil {
		return fmt.Sprintf("SessionAggregate group=[%s] session=(%s, gap %s) aggs=[%s]", joinExprs(a.Groups),
			a.Session.Time, exec.FormatInterval(a.Session.Gap), strings.Join(aggs, ", "))
	}
	return fmt.Sprintf("Aggregate group=[%s] aggs=[%s]", joinExprs(a.Groups), strings.Join(aggs, ", "))
}
func (w *WindowAssign) Describe() string {
	if w.Cumulate {
		return fmt.Sprintf("WindowAssign cumulate(%s, step %s, size %s)", w.Input.Columns()[w.TimeCol].Name, exec.FormatInterval(w.Slide), exec.FormatInterval(w.Size))
	}
	if w.Slide == w.Size {
		return fmt.Sprintf("WindowAssign tumbling(%s, %s)", w.Input.Columns()[w.TimeCol].Name, exec.FormatInterval(w.Size))
	}
	return fmt.Sprintf("WindowAssign sliding(%s, %s, slide %s)", w.Input.Columns()[w.TimeCol].Name, exec.FormatInterval(w.Size), exec.FormatInterval(w.Slide))
}
func (j *Join) Describe() string {
	if j.Cond == nil {
		return j.Kind.String() + "Join"
	}
	return j.Kind.String() + "Join on " + j.Cond.String()
}
func (s *Sort) Describe() string {
	parts := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		parts[i] = k.Expr.String()
		if k.Desc {
			parts[i] += " DESC"
		}
	}
	return "Sort " + strings.Join(parts, ", ")
}
func (l *Limit) Describe() string {
	if l.Offset > 0 {
		return fmt.Sprintf("Limit %d offset %d", l.Count, l.Offset)
	}
	return fmt.Sprintf("Limit %d", l.Count)
}
func (u *Union) Describe() string   { return "UnionAll" }
func (e *Explode) Describe() string { return "Explode " + e.Cols[e.Col].Name }

// String renders an aggregate call as written in SQL.
func (c AggCall) String() string {
	if c.Arg == nil {
		return "count(*)"
	}
	d := ""
	if c.Distinct {
		d = "DISTINCT "
	}
	return exec.AggName(c.Kind) + "(" + d + c.Arg.String() + ")"
}

// Explain renders the plan as an indented tree, one node per line.
func Explain(n Node) string {
	var sb strings.Builder
	var walk func(n Node, depth int)
	walk = func(n Node, depth int) {
		sb.WriteString(strings.Repeat("  ", depth))
		sb.WriteString(n.Describe())
		sb.WriteByte('\n')
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return strings.TrimRight(sb.String(), "\n")
}
