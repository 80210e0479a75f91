package incremental

import (
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Keep-first deduplication (Flink's form) in append mode:
//
//	SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts) AS rn FROM s) t WHERE rn = 1
//
// where ts is the stream's watermarked event time. It runs with Spark's
// dropDuplicatesWithinWatermark semantics: the first row of each id to arrive is emitted (rn is
// 1) and final; later rows of the id are dropped while the id is held, which is until the
// watermark passes the first row's event time plus the source's watermark delay; rows older than
// the watermark are dropped and counted. The result equals the batch query whenever the
// earliest row of an id arrives first and its duplicates within the delay (the usual case of
// redelivered events). Any other ROW_NUMBER() form is left to the general operator.

// keepFirst is what the rewrite records for the aggregate it puts in the Window's place.
type keepFirst struct {
	partition []int // the input columns identifying a row
	timeCol   int   // the ORDER BY event-time column
}

// rewriteKeepFirst replaces every keep-first pattern of plan (see above) by a marker aggregate
// (grouping by every input column, which the streaming plan runs as a Deduplicate keyed by the
// partition) under a projection adding rn = 1. Nodes off the rewritten paths are shared.
func (b *planBuilder) rewriteKeepFirst(n planner.Node) planner.Node {
	if f, ok := n.(*planner.Filter); ok {
		if w, ok := b.keepFirstWindow(f); ok {
			return b.replaceWindow(f, w)
		}
	}
	kids := n.Children()
	changed := false
	nk := make([]planner.Node, len(kids))
	for i, c := range kids {
		nk[i] = b.rewriteKeepFirst(c)
		changed = changed || nk[i] != c
	}
	if !changed {
		return n
	}
	return withChildren(n, nk)
}

// keepFirstWindow matches f as rn = 1 over projections passing rn through from a single
// ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ts) whose ts is a watermarked event time of the
// stream (no stateful operator between).
func (b *planBuilder) keepFirstWindow(f *planner.Filter) (*planner.Window, bool) {
	call, ok := f.Pred.(*planner.Func)
	if !ok || call.Name != "=" || len(call.Args) != 2 {
		return nil, false
	}
	col, c := call.Args[0], call.Args[1]
	if _, isConst := col.(*planner.Const); isConst {
		col, c = c, col
	}
	ref, ok1 := col.(*planner.ColRef)
	one, ok2 := c.(*planner.Const)
	if !ok1 || !ok2 || one.Value != any(int64(1)) {
		return nil, false
	}
	idx, n := ref.Index, f.Input
	for {
		p, ok := n.(*planner.Project)
		if !ok {
			break
		}
		r, ok := p.Exprs[idx].(*planner.ColRef)
		if !ok {
			return nil, false
		}
		idx, n = r.Index, p.Input
	}
	w, ok := n.(*planner.Window)
	if !ok || len(w.Funcs) != 1 || w.Funcs[0].Name != "row_number" || idx != len(w.Input.Columns()) ||
		len(w.Partition) == 0 || len(w.Order) != 1 || w.Order[0].Desc {
		return nil, false
	}
	t := w.Order[0].Col
	if w.Input.Columns()[t].Type.ID() != exec.Timestamp.ID() {
		return nil, false
	}
	et, ok := b.eventTimeOf(w.Input, t)
	if !ok || et.stateful {
		return nil, false
	}
	return w, true
}

// replaceWindow rebuilds the path from f down to w with w replaced by the marker aggregate.
func (b *planBuilder) replaceWindow(n planner.Node, w *planner.Window) planner.Node {
	if n == planner.Node(w) {
		in := w.Input
		cols := in.Columns()
		groups := make([]planner.Expr, len(cols))
		exprs := make([]planner.Expr, 0, len(cols)+1)
		for i, c := range cols {
			groups[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
			exprs = append(exprs, groups[i])
		}
		agg := &planner.Aggregate{Input: in, Groups: groups, Cols: cols}
		b.keepFirst[agg] = &keepFirst{partition: w.Partition, timeCol: w.Order[0].Col}
		exprs = append(exprs, &planner.Const{Value: int64(1), Typ: exec.Int64})
		return &planner.Project{Input: agg, Exprs: exprs, Cols: w.Cols}
	}
	kids := n.Children()
	return withChildren(n, []planner.Node{b.replaceWindow(kids[0], w)})
}

// withChildren copies n with other children (the node kinds a streaming plan can hold).
func withChildren(n planner.Node, kids []planner.Node) planner.Node {
	switch x := n.(type) {
	case *planner.Filter:
		return &planner.Filter{Input: kids[0], Pred: x.Pred}
	case *planner.Project:
		return &planner.Project{Input: kids[0], Exprs: x.Exprs, Cols: x.Cols}
	case *planner.Aggregate:
		c := *x
		c.Input = kids[0]
		return &c
	case *planner.WindowAssign:
		c := *x
		c.Input = kids[0]
		return &c
	case *planner.Explode:
		c := *x
		c.Input = kids[0]
		return &c
	case *planner.Window:
		c := *x
		c.Input = kids[0]
		return &c
	case *planner.Sort:
		return &planner.Sort{Input: kids[0], Keys: x.Keys}
	case *planner.Limit:
		return &planner.Limit{Input: kids[0], Count: x.Count, Offset: x.Offset}
	case *planner.Join:
		return &planner.Join{Kind: x.Kind, Left: kids[0], Right: kids[1], Cond: x.Cond}
	case *planner.Union:
		return &planner.Union{Inputs: kids, Cols: x.Cols}
	}
	return n
}

// scanColumn follows col of n through stateless nodes to the stream column it reads.
func scanColumn(n planner.Node, col int) (*planner.Scan, int, bool) {
	switch x := n.(type) {
	case *planner.Scan:
		if x.Proj != nil {
			return x, x.Proj[col], true
		}
		return x, col, true
	case *planner.Project:
		if c, ok := x.Exprs[col].(*planner.ColRef); ok {
			return scanColumn(x.Input, c.Index)
		}
	case *planner.Filter:
		return scanColumn(x.Input, col)
	case *planner.WindowAssign:
		if col < len(x.Input.Columns()) {
			return scanColumn(x.Input, col)
		}
	case *planner.Explode:
		if col != x.Col {
			return scanColumn(x.Input, col)
		}
	}
	return nil, 0, false
}
