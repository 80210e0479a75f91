package planner

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Lowering turns logical plans into exec operator trees for one statement. Uncorrelated subqueries
// are run during lowering (once, before the query that uses them) with the same Ctx.
type Lowering struct {
	Ctx *exec.Ctx
	// Physical chooses the operators of the leaves and of the stateful nodes; nil means a batch
	// query (BatchPhysical). A continuous query's Physical comes from its streaming plan
	// (package incremental), so the lowering itself never asks whether it runs on a stream.
	Physical Physical
	// outer holds the values of a correlated subquery's Outer expressions while its plan is
	// lowered for one outer row (OuterRef{Index: i} lowers to outer[i]); nil elsewhere.
	outer []exec.Datum
}

// Physical builds the operators whose choice differs between a batch query and a continuous one.
// Every other node lowers to the same operator in both.
type Physical interface {
	// Scan returns the source of a scan (a table read once, or a stream's epoch input).
	Scan(s *Scan) (exec.Source, error)
	// Aggregate returns the operator of a: its input has the group keys at groupCols, the
	// session event time at timeCol (-1 without a session window) and the aggregate arguments
	// as specs say; its output schema is SchemaOf(a).
	Aggregate(a *Aggregate, in *arrow.Schema, groupCols []int, timeCol int, specs []exec.AggSpec) (exec.Operator, error)
	// Order builds ORDER BY s and/or LIMIT lim (either may be nil, not both) over in, whose sort
	// keys are the columns keys name.
	Order(s *Sort, lim *Limit, in *exec.Tree, keys []exec.SortKey) (*exec.Tree, error)
	// Join returns the operator of j and the order its inputs run in (nil: left, then right).
	// kind is InnerJoin, LeftJoin or CrossJoin (a RIGHT JOIN arrives with its sides swapped);
	// left and right are the sides' schemas with their key columns at leftKeys and rightKeys,
	// and residual (nil: none) is over the left columns followed by the right ones.
	Join(j *Join, kind JoinKind, left, right *arrow.Schema, leftKeys, rightKeys []int, residual exec.Expr) (exec.Operator, []int, error)
	// Window returns the operator computing w's functions over rows of schema in.
	Window(w *Window, in *arrow.Schema) (exec.Operator, error)
	// Union builds UNION ALL u over its lowered inputs (in u.Inputs' order).
	Union(u *Union, inputs []*exec.Tree) (*exec.Tree, error)
}

// BatchPhysical is the Physical of batch queries: tables are opened once, streams refused, and
// aggregates emit every group at the end of input.
type BatchPhysical struct{}

func (BatchPhysical) Scan(s *Scan) (exec.Source, error) {
	if _, streaming := s.Source.(StreamingTable); streaming {
		return nil, fmt.Errorf("%s is a stream: read it in a continuous query (CREATE SINK ... AS SELECT or CREATE MATERIALIZED VIEW ... AS SELECT)", s.Table)
	}
	return s.Source.Open(s.Proj)
}

func (BatchPhysical) Aggregate(a *Aggregate, in *arrow.Schema, groupCols []int, timeCol int, specs []exec.AggSpec) (exec.Operator, error) {
	if a.Session != nil {
		return exec.NewSessionAggregate(in, groupCols, timeCol, a.Session.Gap, specs, SchemaOf(a), exec.AggEmitAll)
	}
	return exec.NewHashAggregate(in, groupCols, specs, SchemaOf(a))
}

// Order is a blocking sort, then a LIMIT.
func (BatchPhysical) Order(s *Sort, lim *Limit, in *exec.Tree, keys []exec.SortKey) (*exec.Tree, error) {
	t := in
	if s != nil {
		op, err := exec.NewSort(in.Schema(), keys)
		if err != nil {
			return nil, err
		}
		t = &exec.Tree{Op: op, Inputs: []*exec.Tree{t}}
	}
	if lim != nil {
		t = &exec.Tree{Op: exec.NewLimit(t.Schema(), lim.Count, lim.Offset), Inputs: []*exec.Tree{t}}
	}
	return t, nil
}

// Join is a hash join building the right side (run first) and probing with the left.
func (BatchPhysical) Join(_ *Join, kind JoinKind, left, right *arrow.Schema, leftKeys, rightKeys []int, residual exec.Expr) (exec.Operator, []int, error) {
	ek := exec.JoinInner
	if kind == LeftJoin {
		ek = exec.JoinLeft
	}
	op, err := exec.NewHashJoin(ek, left, right, leftKeys, rightKeys, residual)
	return op, []int{1, 0}, err
}

// Window buffers its whole input and computes the functions at the end of input.
func (BatchPhysical) Window(w *Window, in *arrow.Schema) (exec.Operator, error) {
	return exec.NewWindow(in, w.Partition, w.Order, w.Funcs)
}

// Union passes every input's rows through.
func (BatchPhysical) Union(u *Union, inputs []*exec.Tree) (*exec.Tree, error) {
	return &exec.Tree{Op: exec.NewUnion(SchemaOf(u)), Inputs: inputs}, nil
}

func (l *Lowering) physical() Physical {
	if l.Physical == nil {
		return BatchPhysical{}
	}
	return l.Physical
}

// ReopenedScan is the source of a table read by a continuous query (a stream-static join): it
// opens the table afresh at every epoch, so the query sees the table as it is when the epoch runs.
func ReopenedScan(s *Scan) exec.Source {
	return &reopenedSource{table: s.Source, proj: s.Proj, schema: SchemaOf(s)}
}

// StatefulOperator is a stateful operator of a running query and the plan node it comes from.
type StatefulOperator struct {
	Name string
	Op   exec.Operator
}

// StreamingTable is a TableSource that is a stream (a CREATE SOURCE): it can only be read by a
// continuous query.
type StreamingTable interface {
	TableSource
	StreamName() string
}

// StreamingScans returns the scans of streams in n (nil for a batch plan), subqueries included.
func StreamingScans(n Node) []*Scan {
	var out []*Scan
	var walk func(Node)
	walk = func(n Node) {
		if s, ok := n.(*Scan); ok {
			if _, streaming := s.Source.(StreamingTable); streaming {
				out = append(out, s)
			}
		}
		for _, e := range nodeExprs(n) {
			Walk(e, func(x Expr) {
				if sq, ok := x.(*Subquery); ok {
					walk(sq.Plan)
				}
			})
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(n)
	return out
}

// Subqueries returns the subqueries held directly by n's expressions (not those of its children,
// nor subqueries nested inside them).
func Subqueries(n Node) []*Subquery {
	var out []*Subquery
	for _, e := range nodeExprs(n) {
		Walk(e, func(x Expr) {
			if sq, ok := x.(*Subquery); ok {
				out = append(out, sq)
			}
		})
	}
	return out
}

// nodeExprs lists the expressions a node holds directly.
func nodeExprs(n Node) []Expr {
	switch x := n.(type) {
	case *Filter:
		return []Expr{x.Pred}
	case *Project:
		return x.Exprs
	case *Aggregate:
		out := append([]Expr{}, x.Groups...)
		for _, a := range x.Aggs {
			if a.Arg != nil {
				out = append(out, a.Arg)
			}
		}
		return out
	case *Join:
		if x.Cond != nil {
			return []Expr{x.Cond}
		}
	case *Sort:
		out := make([]Expr, len(x.Keys))
		for i, k := range x.Keys {
			out[i] = k.Expr
		}
		return out
	}
	return nil
}

// SchemaOf is the Arrow schema of a node's output.
func SchemaOf(n Node) *arrow.Schema {
	cols := n.Columns()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// Run lowers and runs n, returning its records (owned by the caller).
func (l *Lowering) Run(n Node) ([]arrow.RecordBatch, error) {
	t, err := l.Lower(n)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Collect(l.Ctx)
}

// Lower builds the operator tree of n.
func (l *Lowering) Lower(n Node) (*exec.Tree, error) {
	switch x := n.(type) {
	case *Scan:
		src, err := l.physical().Scan(x)
		if err != nil {
			return nil, err
		}
		return &exec.Tree{Source: src}, nil
	case *Values:
		src, err := exec.NewValuesSource(SchemaOf(x), x.Rows)
		if err != nil {
			return nil, err
		}
		return &exec.Tree{Source: src}, nil
	case *Filter:
		in, err := l.Lower(x.Input)
		if err != nil {
			return nil, err
		}
		pred, err := l.Expr(x.Pred)
		if err != nil {
			return nil, err
		}
		op, err := exec.NewFilter(in.Schema(), pred)
		if err != nil {
			return nil, err
		}
		return &exec.Tree{Op: op, Inputs: []*exec.Tree{in}}, nil
	case *Project:
		in, err := l.Lower(x.Input)
		if err != nil {
			return nil, err
		}
		return l.project(in, x.Exprs, x.Cols)
	case *Aggregate:
		return l.aggregate(x)
	case *WindowAssign:
		in, err := l.Lower(x.Input)
		if err != nil {
			return nil, err
		}
		op, err := exec.NewWindowAssign(in.Schema(), x.TimeCol, x.Size, x.Slide)
		if x.Cumulate {
			op, err = exec.NewCumulateWindowAssign(in.Schema(), x.TimeCol, x.Slide, x.Size)
		}
		if err != nil {
			return nil, err
		}
		return &exec.Tree{Op: op, Inputs: []*exec.Tree{in}}, nil
	case *Join:
		return l.join(x)
	case *Sort:
		return l.sort(x, nil)
	case *Window:
		return l.window(x)
	case *Limit:
		if s, ok := x.Input.(*Sort); ok {
			return l.sort(s, x)
		}
		in, err := l.Lower(x.Input)
		if err != nil {
			return nil, err
		}
		return l.physical().Order(nil, x, in, nil)
	case *Union:
		var inputs []*exec.Tree
		for _, c := range x.Inputs {
			in, err := l.Lower(c)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, in)
		}
		return l.physical().Union(x, inputs)
	case *Explode:
		in, err := l.Lower(x.Input)
		if err != nil {
			return nil, err
		}
		op, err := exec.NewExplode(in.Schema(), x.Col, x.Cols[x.Col].Name)
		if err != nil {
			return nil, err
		}
		return &exec.Tree{Op: op, Inputs: []*exec.Tree{in}}, nil
	}
	return nil, fmt.Errorf("internal: cannot lower %T", n)
}

func (l *Lowering) project(in *exec.Tree, exprs []Expr, cols []Column) (*exec.Tree, error) {
	ee := make([]exec.Expr, len(exprs))
	names := make([]string, len(exprs))
	for i, e := range exprs {
		var err error
		if ee[i], err = l.Expr(e); err != nil {
			return nil, err
		}
		names[i] = cols[i].Name
	}
	op, err := exec.NewProject(ee, names)
	if err != nil {
		return nil, err
	}
	return &exec.Tree{Op: op, Inputs: []*exec.Tree{in}}, nil
}

// passThrough is a ColRef per input column, for projects that append computed columns.
func passThrough(cols []Column) ([]Expr, []Column) {
	exprs := make([]Expr, len(cols))
	for i, c := range cols {
		exprs[i] = &ColRef{Index: i, Name: c.Name, Typ: c.Type}
	}
	return exprs, append([]Column{}, cols...)
}

func (l *Lowering) aggregate(a *Aggregate) (*exec.Tree, error) {
	in, err := l.Lower(a.Input)
	if err != nil {
		return nil, err
	}
	// Pre-project the group keys and the aggregate arguments into plain columns.
	var exprs []Expr
	var cols []Column
	groupCols := make([]int, len(a.Groups))
	for i, g := range a.Groups {
		groupCols[i] = len(exprs)
		exprs = append(exprs, g)
		cols = append(cols, Column{Name: fmt.Sprintf("g%d", i), Type: g.Type()})
	}
	timeCol := -1
	if a.Session != nil {
		timeCol = len(exprs)
		exprs = append(exprs, a.Session.Time)
		cols = append(cols, Column{Name: "session_time", Type: a.Session.Time.Type()})
	}
	specs := make([]exec.AggSpec, len(a.Aggs))
	for i, c := range a.Aggs {
		specs[i] = exec.AggSpec{Kind: c.Kind, Distinct: c.Distinct, Col: -1}
		if c.Arg != nil {
			specs[i].Col = len(exprs)
			exprs = append(exprs, c.Arg)
			cols = append(cols, Column{Name: fmt.Sprintf("a%d", i), Type: c.Arg.Type()})
		}
	}
	pre, err := l.project(in, exprs, cols)
	if err != nil {
		return nil, err
	}
	op, err := l.physical().Aggregate(a, pre.Schema(), groupCols, timeCol, specs)
	if err != nil {
		return nil, err
	}
	return &exec.Tree{Op: op, Inputs: []*exec.Tree{pre}}, nil
}

// sort lowers s, and the LIMIT lim directly above it when lim is not nil, through
// Physical.Order: sort keys that are not plain columns are computed into extra columns first and
// dropped after.
func (l *Lowering) sort(s *Sort, lim *Limit) (*exec.Tree, error) {
	in, err := l.Lower(s.Input)
	if err != nil {
		return nil, err
	}
	inCols := s.Input.Columns()
	exprs, cols := passThrough(inCols)
	keys := make([]exec.SortKey, len(s.Keys))
	for i, k := range s.Keys {
		col := -1
		if c, ok := k.Expr.(*ColRef); ok {
			col = c.Index
		} else {
			col = len(exprs)
			exprs = append(exprs, k.Expr)
			cols = append(cols, Column{Name: fmt.Sprintf("sort%d", i), Type: k.Expr.Type()})
		}
		keys[i] = exec.SortKey{Col: col, Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	extra := len(exprs) > len(inCols)
	if extra {
		if in, err = l.project(in, exprs, cols); err != nil {
			return nil, err
		}
	}
	t, err := l.physical().Order(s, lim, in, keys)
	if err != nil {
		return nil, err
	}
	if !extra {
		return t, nil
	}
	drop, dcols := passThrough(inCols)
	return l.project(t, drop, dcols)
}

func (l *Lowering) join(j *Join) (*exec.Tree, error) {
	left, right, cond := j.Left, j.Right, j.Cond
	nl, nr := len(left.Columns()), len(right.Columns())
	kind := j.Kind
	swapped := kind == RightJoin
	if swapped {
		left, right = right, left
		cond = MapColumns(cond, func(c *ColRef) Expr {
			if c.Index < nl {
				return &ColRef{Index: c.Index + nr, Name: c.Name, Typ: c.Typ}
			}
			return &ColRef{Index: c.Index - nl, Name: c.Name, Typ: c.Typ}
		})
		nl, nr = nr, nl
		kind = LeftJoin
	}
	// Split the condition into equi-join keys (left expr = right expr) and a residual.
	var lk, rk []Expr
	var residual []Expr
	for _, c := range Conjuncts(cond) {
		if f, ok := c.(*Func); ok && f.Name == "=" && !hasSubquery(c) {
			a, b := f.Args[0], f.Args[1]
			sa, sb := sideOf(a, nl), sideOf(b, nl)
			if sa == 2 && sb == 1 {
				a, b, sa, sb = b, a, sb, sa
			}
			if sa == 1 && sb == 2 {
				lk = append(lk, a)
				rk = append(rk, MapColumns(b, func(c *ColRef) Expr { return &ColRef{Index: c.Index - nl, Name: c.Name, Typ: c.Typ} }))
				continue
			}
		}
		residual = append(residual, c)
	}
	lt, err := l.Lower(left)
	if err != nil {
		return nil, err
	}
	rt, err := l.Lower(right)
	if err != nil {
		return nil, err
	}
	lt, lkeys, lextra, err := l.keyColumns(lt, left.Columns(), lk)
	if err != nil {
		return nil, err
	}
	rt, rkeys, rextra, err := l.keyColumns(rt, right.Columns(), rk)
	if err != nil {
		return nil, err
	}
	var res exec.Expr
	if len(residual) > 0 {
		r, err := And(residual)
		if err != nil {
			return nil, err
		}
		// Right columns moved past the left key columns appended by keyColumns.
		r = MapColumns(r, func(c *ColRef) Expr {
			if c.Index >= nl {
				return &ColRef{Index: c.Index + lextra, Name: c.Name, Typ: c.Typ}
			}
			return c
		})
		if res, err = l.Expr(r); err != nil {
			return nil, err
		}
	}
	op, order, err := l.physical().Join(j, kind, lt.Schema(), rt.Schema(), lkeys, rkeys, res)
	if err != nil {
		return nil, err
	}
	t := &exec.Tree{Op: op, Inputs: []*exec.Tree{lt, rt}, Order: order}
	if lextra == 0 && rextra == 0 && !swapped {
		return t, nil
	}
	// Drop key columns and restore the original left/right order.
	out := j.Columns()
	exprs := make([]Expr, 0, len(out))
	leftPos := func(i int) int { return i }
	rightPos := func(i int) int { return nl + lextra + i }
	if swapped {
		for i := 0; i < nr; i++ { // the original left side is now on the right
			exprs = append(exprs, &ColRef{Index: rightPos(i), Name: out[len(exprs)].Name, Typ: out[len(exprs)].Type})
		}
		for i := 0; i < nl; i++ {
			exprs = append(exprs, &ColRef{Index: leftPos(i), Name: out[len(exprs)].Name, Typ: out[len(exprs)].Type})
		}
	} else {
		for i := 0; i < nl; i++ {
			exprs = append(exprs, &ColRef{Index: leftPos(i), Name: out[len(exprs)].Name, Typ: out[len(exprs)].Type})
		}
		for i := 0; i < nr; i++ {
			exprs = append(exprs, &ColRef{Index: rightPos(i), Name: out[len(exprs)].Name, Typ: out[len(exprs)].Type})
		}
	}
	_ = rextra
	return l.project(t, exprs, out)
}

// keyColumns makes every join key a column of the side's output: plain column references are used
// as they are; other expressions are appended by a projection. Keys of both sides have equal types
// (the binder cast them).
func (l *Lowering) keyColumns(t *exec.Tree, cols []Column, keys []Expr) (*exec.Tree, []int, int, error) {
	idx := make([]int, len(keys))
	exprs, pcols := passThrough(cols)
	for i, k := range keys {
		if c, ok := k.(*ColRef); ok {
			idx[i] = c.Index
			continue
		}
		idx[i] = len(exprs)
		exprs = append(exprs, k)
		pcols = append(pcols, Column{Name: fmt.Sprintf("key%d", i), Type: k.Type()})
	}
	extra := len(exprs) - len(cols)
	if extra == 0 {
		return t, idx, 0, nil
	}
	p, err := l.project(t, exprs, pcols)
	return p, idx, extra, err
}

// sideOf tells which join input an expression over the joined columns reads: 1 only the left
// (columns below nl), 2 only the right, 0 both or neither.
func sideOf(e Expr, nl int) int {
	used := ColumnsUsed(e)
	if len(used) == 0 {
		return 0
	}
	l, r := false, false
	for c := range used {
		if c < nl {
			l = true
		} else {
			r = true
		}
	}
	switch {
	case l && !r:
		return 1
	case r && !l:
		return 2
	}
	return 0
}

// reopenedSource opens its table at every Scan (every epoch of a continuous query).
type reopenedSource struct {
	table  TableSource
	proj   []int
	schema *arrow.Schema
}

func (r *reopenedSource) Schema() *arrow.Schema { return r.schema }

func (r *reopenedSource) Scan(ctx *exec.Ctx, emit exec.Emit) error {
	src, err := r.table.Open(r.proj)
	if err != nil {
		return err
	}
	if rel, ok := src.(interface{ Release() }); ok {
		defer rel.Release()
	}
	return src.Scan(ctx, emit)
}
